"""Prompt templates, as constants. The wording was checked against the small offline model
(Qwen2.5-0.5B-Instruct): short, explicit, one example of the citation format.
"""

REFUSAL = "Ce n'est pas dans les documents."

# The passages go in the system message and the user turn is the question alone: with both in
# the user turn, the 0.5B model often answered with a lone passage number ("[2]") or echoed a
# passage header.
SYSTEM = (
    "Tu réponds à des questions uniquement à partir des passages numérotés ci-dessous. "
    "Règles : 1) N'utilise que les informations des passages, jamais tes propres connaissances. "
    "2) Réponds brièvement, en une à trois phrases complètes, dans la langue de la question. "
    "3) Termine chaque phrase par le numéro du passage qui la justifie, entre crochets, par exemple [2]. "
    f"4) Si les passages ne contiennent pas la réponse, réponds seulement : « {REFUSAL} »"
    "\n\nPassages :\n\n{passages}"
)

PASSAGE = "[{number}] {text}\n(source : {where})"

USER = "{question}"

# What a model says when it refuses; matched case-insensitively on the answer text.
REFUSAL_PATTERNS = (
    r"n'est pas dans les documents",
    r"ne (?:figure|se trouve|sont|est) pas dans les (?:documents|passages)",
    r"(?:les|aucun des) passages? ne (?:contien|mentionn|précis|indiqu|donn|parl)",
    r"aucune information",
    r"je ne (?:sais|peux) pas",
    r"pas d'information",
    r"not (?:in|found in) the (?:documents|passages)",
    r"i (?:don't|do not) know",
)

# Rewrite a follow-up into a standalone question (used by the conversation layer).
CONDENSE = (
    "Voici une conversation puis une nouvelle question. Réécris la nouvelle question pour qu'elle soit "
    "compréhensible seule, sans la conversation, dans la même langue. Réponds seulement par la question "
    "réécrite.\n\nConversation :\n{history}\n\nNouvelle question : {question}\n\nQuestion réécrite :"
)

# Question likelihood (``rag.answering.locate``): how likely the model finds the question, written after
# reading a passage window, is how well that window answers it. Never generated, only scored.
QUESTION_FROM_PASSAGE = "Tu écris la question à laquelle le passage répond."
PASSAGE_TO_QUESTION = "Passage : {text}"
