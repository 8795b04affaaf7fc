from tinygrad_learn.grading.testkit import expect_close, learner, need


def test_square(rng):
    square = need(learner("mathy"), "square")
    x = rng.uniform(-10, 10)
    expect_close(square(x), x * x, "square(x)", given={"x": x})
