from tinygrad_learn.grading.testkit import expect_close, learner, need


def test_double(rng):
    double = need(learner("mathy"), "double")
    x = rng.uniform(-10, 10)
    expect_close(double(x), 2 * x, "double(x)", given={"x": x})


def test_double_zero():
    double = need(learner("mathy"), "double")
    expect_close(double(0.0), 0.0, "double(0.0)")
