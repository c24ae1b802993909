from rag.answering.conversation import needs_context, standalone_question


class Rewriter:
    def __init__(self, reply):
        self.reply = reply

    def generate(self, messages, max_new_tokens=60):
        self.messages = messages
        return self.reply


HISTORY = [("Quand ouvre le fournil des Coteaux ?", "Il ouvre à sept heures [1].")]


def test_standalone_question_is_left_alone():
    assert standalone_question("Combien coûte la baguette au fournil ?", HISTORY) == (
        "Combien coûte la baguette au fournil ?"
    )
    assert standalone_question("Et le dimanche ?", []) == "Et le dimanche ?"


def test_follow_up_without_llm_borrows_the_previous_question():
    assert needs_context("Et le dimanche ?") and needs_context("Combien coûte-t-il ?")
    assert standalone_question("Et le dimanche ?", HISTORY) == "Quand ouvre le fournil des Coteaux ? Et le dimanche ?"


def test_follow_up_with_llm_uses_a_sensible_rewrite():
    llm = Rewriter("Quand ouvre le fournil des Coteaux le dimanche ?")
    assert standalone_question("Et le dimanche ?", HISTORY, llm) == "Quand ouvre le fournil des Coteaux le dimanche ?"
    assert "Il ouvre à sept heures" in llm.messages[0]["content"]
    rambling = Rewriter(" ".join(["bla"] * 80))
    assert standalone_question("Et le dimanche ?", HISTORY, rambling).startswith("Quand ouvre le fournil")
