"""The support check without an NLI model: lexical only here (no embedder), so scores are exact."""

from rag.support import LexicalSemanticSupport, numbers

PASSAGE = (
    "Le fournil ouvre à sept heures. Le consortium des boulangers du canton compte 17 membres. "
    "Le pain cuit dans un four à bois. Chaque membre livre 2 tournées par jour."
)


def support():
    return LexicalSemanticSupport(embedder=None)


def test_numbers_are_normalised():
    assert numbers("1 800 milliards, soit 1,7 billion et 45 %") == {"1800", "1.7", "45"}


def test_a_terse_answer_needs_the_window_to_be_about_the_question():
    question = "Combien de membres compte le consortium des boulangers ?"
    right = support().score_many("17", [PASSAGE], question)[0]
    assert right.score == 1.0
    assert PASSAGE[right.span[0] : right.span[1]].startswith("Le consortium")
    # "2" is in the passage too, but not in a window (one or two sentences) about the consortium
    wrong = support().score_many("2", [PASSAGE], question)[0]
    assert wrong.score < right.score


def test_an_invented_number_scales_the_score_down():
    question = "Combien de membres compte le consortium ?"
    good = support().score_many("Le consortium compte 17 membres.", [PASSAGE], question)[0].score
    invented = support().score_many("Le consortium compte 64 membres.", [PASSAGE], question)[0].score
    assert good == 1.0
    assert invented == 0.0


def test_numbers_taken_from_the_question_are_not_required():
    question = "Que fait chacun des 17 membres ?"
    score = support().score_many("Chaque membre livre 2 tournées par jour.", [PASSAGE], question)[0].score
    assert score > 0.5


def test_new_terms_weigh_more_than_the_question_terms():
    question = "Que livre chaque membre du consortium ?"
    invented = support().score_many("Chaque membre livre des croissants au beurre.", [PASSAGE], question)[0]
    right = support().score_many("Chaque membre livre deux tournées.", [PASSAGE], question)[0]
    assert right.score > invented.score


def test_without_a_question_the_sentence_alone_is_checked():
    assert support().score_many("Le fournil ouvre à sept heures.", [PASSAGE])[0].score == 1.0
