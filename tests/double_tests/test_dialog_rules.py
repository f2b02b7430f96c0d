from tests.double.dialog_rules import dialog_problems


def element(**fields: object) -> dict[str, object]:
    return {"display_name": "Name", "name": "name", "type": "text", **fields}


def test_a_valid_dialog_has_no_problems() -> None:
    dialog = {
        "title": "Start incident",
        "elements": [
            element(min_length=2, max_length=64),
            element(name="pb", type="select", options=[{"text": "A", "value": "a"}], default="a"),
            element(name="who", type="select", data_source="users"),
            element(name="b", type="bool", default="true"),
        ],
    }
    assert dialog_problems(dialog) == []


def test_what_a_current_server_warns_about() -> None:
    dialog = {
        "title": "A title far longer than twenty-four",
        "elements": [
            element(display_name="A display name that is too long"),
            element(help_text="x" * 151),
            element(name="dup"),
            element(name="dup"),
            element(name="sel", type="select", options=[], default="nope"),
            element(name="len", min_length=5, max_length=2),
            element(name="kind", type="file"),
        ],
    }
    problems = " | ".join(dialog_problems(dialog))
    for expected in (
        "invalid dialog title",
        "display_name empty or longer than 24",
        "help_text longer than 150",
        "duplicate dialog element 'dup'",
        "default 'nope' is not an option",
        "min_length 5 > max_length 2",
        "invalid element type 'file'",
    ):
        assert expected in problems
