"""Step 3: backward() orders the graph and sends gradients from the output back to every input.

Until week 1 the learner's Value only adds, so every graph here is built with `+` and plain
numbers. For additions alone the gradient of a node is the number of paths from it to the output;
the suite counts those paths itself, from the graph it built.
"""

from tinygrad_learn.grading.suitekit import (
    UNHASHABLE,
    endless_reflection,
    expect_output_grad_one,
    explaining,
    unhashable_value,
    value_class,
)
from tinygrad_learn.grading.testkit import (
    Msg,
    expect_close,
    expect_grads,
    expect_number,
    expect_type,
    fail_with,
    need_attr,
)

DEEP_RECURSION = Msg(
    en=(
        "RecursionError in backward(). A recursive topological sort calls itself once per "
        "level of the graph, and Python stops at about 1000 nested calls, so any graph deeper than that "
        "crashes. Sort iteratively instead: keep your own stack (a list) of nodes still to visit, and "
        "append a node to the order only once all its inputs are in it."
    ),
    ko=(
        "backward()가 RecursionError를 냈습니다. 재귀로 짠 위상 정렬은 그래프의 깊이만큼 "
        "자신을 중첩해서 부르는데, 파이썬은 약 1000번에서 멈추므로 그보다 깊은 그래프에서는 무너집니다. "
        "반복문으로 정렬하세요: 아직 방문할 노드를 담은 스택(list)을 직접 관리하고, 노드의 입력이 모두 "
        "순서에 들어간 뒤에야 그 노드를 순서에 넣으세요."
    ),
)

REFLECTED_RECURSION = Msg(
    en=(
        "RecursionError inside __radd__: it calls itself forever. `return other + self` asks the number "
        "on the left again, which sends Python straight back to __radd__. Return `self + other` instead."
    ),
    ko=(
        "__radd__ 안에서 RecursionError가 났습니다: 자기 자신을 끝없이 부릅니다. `return other + self`는 "
        "왼쪽 숫자에게 다시 묻고, 곧바로 __radd__로 돌아옵니다. 대신 `self + other`를 돌려주세요."
    ),
)

OUTPUT_GRAD_NOT_SET = Msg(
    en=(
        "After backward(), the output's own grad is {grad}, not 1.0. backward() must start with "
        "`self.grad = 1.0` (d(out)/d(out) = 1); otherwise every _backward passes on zero."
    ),
    ko=(
        "backward() 뒤에 출력 자신의 grad가 1.0이 아니라 {grad}입니다. backward()는 `self.grad = 1.0`으로 "
        "시작해야 합니다 (d(out)/d(out) = 1). 그러지 않으면 모든 _backward가 0을 넘깁니다."
    ),
)

EQUAL_DATA = Msg(
    en=(
        "Value(2.0) and Value(2.0), two different nodes, count as one member of a set: your __eq__ and "
        "__hash__ compare data. backward() keeps a set of visited nodes, so it skips every node whose "
        "data happens to equal one it has already seen. Remove __eq__ and __hash__ (or hash with "
        "id(self) and compare with `is`): nodes are told apart by identity, not by value."
    ),
    ko=(
        "서로 다른 노드인 Value(2.0)과 Value(2.0)이 set 안에서 하나로 취급됩니다: __eq__와 __hash__가 "
        "data를 비교합니다. backward()는 방문한 노드를 set에 담으므로, 이미 본 노드와 data가 같은 노드를 "
        "모두 건너뜁니다. __eq__와 __hash__를 지우세요 (또는 id(self)로 해시하고 `is`로 비교하세요). "
        "노드는 값이 아니라 동일성(identity)으로 구별합니다."
    ),
)

GRADS_STILL_ZERO = Msg(
    en=(
        "After backward(), out.grad is 1.0 but every input still has grad 0. Check that backward() calls "
        "_backward() on every node of the order (not just the last one, and not on the leaves only), "
        "from the output back to the inputs, and that __add__ attaches its closure with "
        "`out._backward = _backward`."
    ),
    ko=(
        "backward() 뒤에 out.grad는 1.0 인데 입력들의 grad는 모두 0입니다. backward()가 정렬된 모든 노드의 "
        "_backward()를 출력에서 입력 쪽으로 부르는지 (마지막 하나나 리프 노드만이 아니라), 그리고 __add__가 "
        "`out._backward = _backward`로 클로저를 붙이는지 확인하세요."
    ),
)


ENDLESS_RADD = endless_reflection("__radd__", REFLECTED_RECURSION, names_method=False)
explained = explaining(ENDLESS_RADD, unhashable_value(UNHASHABLE))


def number(rng):
    return round(rng.uniform(-10, 10), rng.choice([0, 2, 6]))


def run_backward(out, expr):
    need_attr(out, "backward", "out")
    try:
        out.backward()
    except RecursionError as error:
        ENDLESS_RADD.explain(error)
        fail_with(DEEP_RECURSION, expr=expr)
    expect_output_grad_one(out, expr, OUTPUT_GRAD_NOT_SET)


def explain_equal_data_collision(Value):
    """Two distinct nodes with equal data must stay two members of a set."""
    a, b = Value(2.0), Value(2.0)
    try:
        collide = len({a, b}) == 1
    except TypeError:
        return
    if collide:
        fail_with(EQUAL_DATA)


def expect_counts(nodes, counts, expr, given):
    """Compare node grads with the path counts; explain the all-zero and equal-data cases first."""
    grads = {name: node.grad for name, node in nodes.items()}
    for name, grad in grads.items():
        expect_number(grad, f"{name}.grad")
    if any(grads[name] != counts[name] for name in nodes):
        explain_equal_data_collision(type(next(iter(nodes.values()))))
    if any(counts[name] for name in nodes) and all(grads[name] == 0 for name in nodes):
        fail_with(GRADS_STILL_ZERO, expr=expr, given=given)
    expect_grads(grads, {name: float(counts[name]) for name in nodes}, expr=expr, given=given, tol=1e-12,
                 ops=["__add__", "backward"], expected_from="formula")


class Graph:
    """A random graph of additions, recorded so the suite can count paths on its own."""

    def __init__(self, Value, rng, leaves, ops, integers=False):
        self.nodes = {}
        self.parents = {}
        self.lines = []
        self.given = {}
        for i in range(leaves):
            start = float(rng.randint(-3, 3)) if integers else number(rng)
            self.nodes[f"x{i}"] = Value(start)
            self.parents[f"x{i}"] = []
            self.given[f"x{i}"] = start
        for j in range(ops):
            names = list(self.nodes)
            recent = names[-3:]
            left = rng.choice(recent if rng.random() < 0.6 else names)
            kind = rng.random()
            name = f"n{j}"
            if kind < 0.15:
                k = rng.randint(-4, 4)
                node = self.nodes[left] + k
                self.lines.append(f"{name} = {left} + {k}")
                self.parents[name] = [left]
            elif kind < 0.3:
                k = rng.randint(-4, 4)
                node = k + self.nodes[left]
                self.lines.append(f"{name} = {k} + {left}")
                self.parents[name] = [left]
            else:
                right = rng.choice(names)
                node = self.nodes[left] + self.nodes[right]
                self.lines.append(f"{name} = {left} + {right}")
                self.parents[name] = [left, right]
            self.nodes[name] = node
        self.output = name

    def paths_from(self, top):
        """Paths from each node to `top`: the gradient of `top` with respect to it, for sums."""
        counts = dict.fromkeys(self.nodes, 0)
        counts[top] = 1
        for name in reversed(list(self.nodes)):
            for parent in self.parents[name]:
                counts[parent] += counts[name]
        return counts

    def expr(self, top):
        return "; ".join(self.lines) + f"; {top}.backward()"


@explained
def test_single_addition(rng):
    Value = value_class()
    x, y = number(rng), number(rng)
    a, b = Value(x), Value(y)
    c = a + b
    run_backward(c, "c = a + b; c.backward()")
    expect_counts({"a": a, "b": b}, {"a": 1, "b": 1}, "c = a + b; c.backward()", {"a": x, "b": y})


@explained
def test_same_node_twice(rng):
    Value = value_class()
    x = number(rng)
    a = Value(x)
    c = a + a
    run_backward(c, "c = a + a; c.backward()")
    expect_counts({"a": a}, {"a": 2}, "c = a + a; c.backward()", {"a": x})


@explained
def test_chain(rng):
    Value = value_class()
    x, y, z, w = (number(rng) for _ in range(4))
    a, b, c, d = Value(x), Value(y), Value(z), Value(w)
    ab = a + b
    abc = ab + c
    out = abc + d
    expr = "ab = a + b; abc = ab + c; out = abc + d; out.backward()"
    run_backward(out, expr)
    expect_counts({"a": a, "b": b, "c": c, "d": d, "ab": ab, "abc": abc},
                  dict.fromkeys(["a", "b", "c", "d", "ab", "abc"], 1), expr, {"a": x, "b": y, "c": z, "d": w})


@explained
def test_diamond(rng):
    Value = value_class()
    xa, xx, xy = number(rng), number(rng), number(rng)
    a, x, y = Value(xa), Value(xx), Value(xy)
    b = a + x
    c = a + y
    d = b + c
    expr = "b = a + x; c = a + y; d = b + c; d.backward()"
    run_backward(d, expr)
    expect_counts({"a": a, "x": x, "y": y, "b": b, "c": c}, {"a": 2, "x": 1, "y": 1, "b": 1, "c": 1}, expr,
                  {"a": xa, "x": xx, "y": xy})


@explained
def test_paths_of_different_lengths(rng):
    # b reaches out directly and through c: b must collect both before passing anything on.
    Value = value_class()
    xa, xk = number(rng), number(rng)
    a, k = Value(xa), Value(xk)
    b = a + k
    c = b + 1
    e = c + b
    out = e + b
    expr = "b = a + k; c = b + 1; e = c + b; out = e + b; out.backward()"
    run_backward(out, expr)
    expect_counts({"a": a, "k": k, "b": b, "c": c, "e": e}, {"a": 3, "k": 3, "b": 3, "c": 1, "e": 1}, expr,
                  {"a": xa, "k": xk})


@explained
def test_equal_data_nodes_stay_distinct(rng):
    # b and c hold the same number; a visited set that compares data would skip one of them.
    Value = value_class()
    start = float(rng.randint(-5, 5))
    same = float(rng.randint(-5, 5))
    a, x, y = Value(start), Value(same), Value(same)
    b = a + x
    c = a + y
    d = b + c
    expr = "b = a + x; c = a + y; d = b + c; d.backward()  # x and y have equal data"
    run_backward(d, expr)
    expect_counts({"a": a, "x": x, "y": y}, {"a": 2, "x": 1, "y": 1}, expr, {"a": start, "x": same, "y": same})


@explained
def test_node_used_many_times(rng):
    Value = value_class()
    x = number(rng)
    a = Value(x)
    times = rng.randint(5, 40)
    out = a
    for _ in range(times - 1):
        out = out + a
    expr = f"out = a + a + ... + a  # {times} times; out.backward()"
    run_backward(out, expr)
    expect_counts({"a": a}, {"a": times}, expr, {"a": x})
    expect_close(out.data, times * x, "out.data", expr=expr, given={"a": x}, tol=1e-9)


@explained
def test_doubling_ladder(rng):
    # Each rung adds the previous rung to itself: 2**depth paths, but only depth + 1 nodes.
    Value = value_class()
    x = number(rng)
    a = Value(x)
    depth = rng.randint(8, 12)
    rung = a
    for _ in range(depth):
        rung = rung + rung
    expr = f"v = a; then {depth} times: v = v + v; v.backward()"
    run_backward(rung, expr)
    expect_counts({"a": a}, {"a": 2**depth}, expr, {"a": x})


@explained
def test_random_graphs(rng):
    Value = value_class()
    for trial in range(30):
        graph = Graph(Value, rng, rng.randint(2, 4), rng.randint(3, 10), integers=trial % 2 == 1)
        out = graph.nodes[graph.output]
        expr = graph.expr(graph.output)
        run_backward(out, expr)
        counts = graph.paths_from(graph.output)
        watched = {name: node for name, node in graph.nodes.items() if name != graph.output}
        expect_counts(watched, counts, expr, graph.given)


@explained
def test_backward_from_an_intermediate_node(rng):
    Value = value_class()
    for _ in range(10):
        graph = Graph(Value, rng, rng.randint(2, 4), rng.randint(4, 10))
        names = [name for name in graph.nodes if name.startswith("n")]
        middle = rng.choice(names[:-1])
        node = graph.nodes[middle]
        expr = graph.expr(middle)
        run_backward(node, expr)
        counts = graph.paths_from(middle)
        # Nodes made after `middle` are outside its graph: their grads must stay 0.
        watched = {name: graph.nodes[name] for name in graph.nodes if name != middle}
        expect_counts(watched, counts, expr, graph.given)


@explained
def test_wide_tree(rng):
    Value = value_class()
    count = rng.randint(200, 600)
    leaves = [Value(number(rng)) for _ in range(count)]
    level = leaves
    while len(level) > 1:
        paired = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    expr = f"{count} leaves summed in pairs, level by level; root.backward()"
    run_backward(level[0], expr)
    wrong = [i for i, leaf in enumerate(leaves) if leaf.grad != 1]
    if wrong:
        explain_equal_data_collision(Value)
        i = wrong[0]
        expect_close(leaves[i].grad, 1.0, f"leaves[{i}].grad", expr=expr, given={"leaves": count})


@explained
def test_deep_chain(rng):
    Value = value_class()
    depth = 5000
    x = number(rng)
    start = Value(x)
    one = Value(1.0)
    node = start
    for i in range(depth):
        node = node + (one if i % 2 else 1)
    expr = f"v = x; then {depth} times: v = v + one (or v + 1); v.backward()"
    expect_type(node, Value, "v")
    run_backward(node, expr)
    if start.grad != 1 or one.grad != depth // 2:
        explain_equal_data_collision(Value)
    expect_close(start.grad, 1.0, "x.grad", expr=expr, given={"x": x})
    expect_close(one.grad, depth // 2, "one.grad", expr=expr, given={"x": x})
    expect_close(node.data, x + depth, "v.data", expr=expr, given={"x": x})
