"""The reading and comparing of runnable examples (tests/docs/doc_examples.py), directly."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, strategies as st

from tests.docs import doc_examples as ex

DOCUMENT = """# Title

Set `IGNORED` to `id` (prose before any answer sets nothing).

```console
make serve
```

```python hello.py
print("hi")
```

```sh
export TOKEN=$(.venv/bin/python hello.py)
export PLAIN=value
```

```sh
curl -s -i http://127.0.0.1:8080/api/v1/things -d '{}'
```

```http
HTTP/1.1 201
content-type: application/json
location: /x

{"id": "a", "items": [{"n": 1}]}
```

Set `THING_ID` to `id`. Set `FIRST` to `items.0.n`.
Repeat until `items.0.n` is `1`.

```sh
.venv/bin/python hello.py
```

```json
{"result": null}
```

```sh
echo no answer
```

Text between a command and a block makes the block no answer:

```http
HTTP/1.1 200
```
"""


def test_steps_are_read_in_order_with_their_answers_and_captures() -> None:
    steps = ex.steps(DOCUMENT)
    assert [s.kind for s in steps] == ["file", "exports", "shell", "shell", "shell"]
    assert steps[0].file_name == "hello.py" and steps[0].text == 'print("hi")\n'
    request = steps[2]
    assert request.answer is not None and request.answer.kind == "http"
    assert request.answer.status == 201
    assert request.answer.headers == (("content-type", "application/json"), ("location", "/x"))
    assert json.loads(request.answer.body) == {"id": "a", "items": [{"n": 1}]}
    assert request.sets == (("THING_ID", "id"), ("FIRST", "items.0.n"))
    assert request.until == ("items.0.n", "1")
    assert DOCUMENT[request.answer.start : request.answer.end].startswith("HTTP/1.1 201")
    program = steps[3]
    assert program.answer is not None and program.answer.kind == "lines"
    assert program.sets == () and program.until is None
    assert steps[4].answer is None


def test_curl_output_skips_interim_answers_and_keeps_repeated_headers() -> None:
    output = (
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 201 \r\nset-cookie: a=1\r\nset-cookie: b=2\r\n"
        "content-type: application/json\r\n\r\n{}"
    )
    response = ex.parse_curl_output(output)
    assert response.status == 201 and response.body == "{}"
    assert response.headers["content-type"] == "application/json"
    assert [v for k, v in response.lines if k == "set-cookie"] == ["a=1", "b=2"]


def test_shapes_compare_keys_and_kinds_not_values() -> None:
    documented = {"id": "a", "n": 1, "ok": True, "x": None, "items": [{"p": "1"}]}
    assert ex.shape_differences(documented, {**documented, "id": "b", "n": 2.5, "x": [1]}) == []
    assert ex.shape_differences(documented, {**documented, "n": "1"}) == [
        "$.n: documented number, got str '1'"
    ]
    assert ex.shape_differences(documented, {**documented, "ok": 1}) == [
        "$.ok: documented boolean, got number 1"
    ]
    missing = {k: v for k, v in documented.items() if k != "id"}
    assert ex.shape_differences(documented, missing) == ["$.id: documented, missing"]
    assert ex.shape_differences(documented, {**documented, "new": 1}) == [
        "$.new: present, not documented"
    ]
    assert ex.shape_differences(documented, {**documented, "items": []}) == [
        "$.items: documented 1 items, got 0"
    ]
    assert ex.shape_differences(documented, {**documented, "items": [{"p": "1"}, {"q": 1}]}) == []
    assert ex.shape_differences(documented, {**documented, "items": [{"q": "1"}]}) == [
        "$.items[0].p: documented, missing",
        "$.items[0].q: present, not documented",
    ]


def test_answers_compare_status_content_type_headers_and_first_text_line() -> None:
    answer = ex.parse_http(
        "HTTP/1.1 200\ncontent-type: text/csv\nx-shown: 1\n\nid,name\n1,a\n", 0, 0
    )
    same = ex.Response(200, {"content-type": "text/csv", "x-shown": "2"}, "id,name\n2,b\n")
    assert ex.answer_differences(answer, same) == []
    other = ex.Response(404, {"content-type": "text/plain"}, "name,id\n")
    assert ex.answer_differences(answer, other) == [
        "status: documented 200, got 404",
        "content-type: documented text/csv, got text/plain",
        "header x-shown: documented, missing",
        "first line: got 'name,id'",
    ]
    assert ex.body_differences('{"a": 1}', "not json") == ["body is not JSON: 'not json'"]


def test_lines_compare_count_and_shapes() -> None:
    assert ex.lines_differences('{"a": 1}\n{"b": []}', '{"a": 2}\n{"b": []}\n') == []
    assert ex.lines_differences('{"a": 1}', '{"a": 1}\n{"a": 1}')[0].startswith(
        "documented 1 lines, got 2"
    )
    assert ex.lines_differences('{"a": 1}', '{"b": 1}') == [
        "line 1.a: documented, missing",
        "line 1.b: present, not documented",
    ]


def test_paths_and_repeat_conditions() -> None:
    body = [{"status": "completed", "n": 1, "ok": True}]
    assert ex.at(body, "0.status") == "completed"
    assert ex.holds(body, "0.status", "completed") and ex.holds(body, "0.n", "1")
    assert ex.holds(body, "0.ok", "true")
    assert not ex.holds(body, "0.status", "running") and not ex.holds(body, "1.status", "x")
    assert not ex.holds(None, "0.status", "completed")


def test_rewritten_answers_keep_the_documented_lengths_and_headers() -> None:
    answer = ex.parse_http(
        'HTTP/1.1 200\nset-cookie: x\n\n{"items": [{"a": 1}], "tags": ["x"]}', 0, 0
    )
    response = ex.Response(
        201,
        {"set-cookie": "b"},
        json.dumps({"items": [{"a": 1}, {"a": 2}], "tags": ["x", "y", "z"], "t": "k" * 300}),
        (("set-cookie", "a"), ("set-cookie", "b")),
    )
    text = ex.rendered(answer, response)
    head, _, body = text.partition("\n\n")
    assert head == "HTTP/1.1 201\nset-cookie: a\nset-cookie: b"
    parsed = json.loads(body)
    assert parsed["items"] == [{"a": 1}] and parsed["tags"] == ["x", "y", "z"]
    assert len(parsed["t"]) < 100 and "…" in parsed["t"]
    assert ex.answer_differences(ex.parse_http(text, 0, 0), response) == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


@given(JSON)
def test_compact_json_is_the_same_json(value: Any) -> None:
    assert json.loads(ex.compact(value)) == value


def test_compact_json_shares_lines_up_to_the_width() -> None:
    value = {"a": {f"key{i}": "v" * 10 for i in range(12)}, "b": 1}
    text = ex.compact(value)
    assert json.loads(text) == value
    assert all(len(line) <= ex.WIDTH for line in text.split("\n"))
    assert len(text.split("\n")) == 8  # the 12 members of "a" share 3 lines


@given(JSON)
def test_a_value_always_has_the_shape_of_itself(value: Any) -> None:
    assert ex.shape_differences(value, value) == []
    assert ex.shape_differences(ex.trimmed_like(value, None), value) == []


def test_routes_are_read_from_headings_with_parameters_made_alike() -> None:
    document = "### DELETE /api/v1/trades/{id}\n#### GET /api/v1/x\nGET /not/a/heading\n"
    assert ex.documented_routes(document) == {"DELETE /api/v1/trades/{}", "GET /api/v1/x"}
    assert ex.route("DELETE", "/api/v1/trades/<uuid:group_id>") == "DELETE /api/v1/trades/{}"
