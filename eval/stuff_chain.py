"""The textbook LangChain answering baseline: ``NaiveBaseline`` retrieval (``eval.baselines``)
stuffed by ``create_stuff_documents_chain`` into the LangChain documentation's prompt (translated
to French), answered by the same LLM as ours. Nothing here is tuned; LangChain loads on use."""

from __future__ import annotations

import time
from pathlib import Path

STUFF_K = 4
# The system prompt of LangChain's create_stuff_documents_chain / create_retrieval_chain
# documentation, translated to French since the questions and documents are French.
STUFF_SYSTEM = (
    "Utilise le contexte suivant pour répondre à la question. Si tu ne connais pas la réponse, "
    "dis que tu ne sais pas. Réponds en trois phrases au maximum, de façon concise.\n\n"
    "Contexte : {context}"
)
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


# -- the LangChain baseline -----------------------------------------------------------------
def stuff_chain(llm, max_new_tokens: int):
    """``create_stuff_documents_chain(model, prompt)`` with ``llm`` as a streaming runnable;
    input ``{"context": [Document, ...], "input": question}``, output text pieces."""
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableGenerator

    def generate(prompts):
        for prompt_value in prompts:
            messages = [{"role": _ROLES.get(m.type, m.type), "content": m.content} for m in prompt_value.to_messages()]
            yield from llm.stream(messages, max_new_tokens=max_new_tokens)

    prompt = ChatPromptTemplate.from_messages([("system", STUFF_SYSTEM), ("human", "{input}")])
    model = RunnableGenerator(generate)
    try:
        from langchain_classic.chains.combine_documents import create_stuff_documents_chain
    except ImportError:  # the same chain, spelled out: documents joined by blank lines
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.runnables import RunnablePassthrough

        def join(inputs: dict) -> str:
            return "\n\n".join(d.page_content for d in inputs["context"])

        return RunnablePassthrough.assign(context=join) | prompt | model | StrOutputParser()
    return create_stuff_documents_chain(model, prompt)


class StuffSystem:
    """The naive LangChain retriever + stuff chain; ``ask`` returns text, documents and timings."""

    name = "langchain-stuff"

    def __init__(self, corpus: Path, embedder, llm, k: int = STUFF_K, max_new_tokens: int = 160, progress=True):
        from eval.baselines import NaiveBaseline, load_split_documents

        self.baseline = NaiveBaseline(load_split_documents(corpus), embedder, progress)
        self.chain = stuff_chain(llm, max_new_tokens)
        self.llm = llm
        self.k = k

    def ask(self, question: str) -> dict:
        started = time.perf_counter()
        docs = self.baseline.store.similarity_search(question, k=self.k)
        timings = {"retrieve": time.perf_counter() - started}
        pieces: list[str] = []
        t = time.perf_counter()
        for piece in self.chain.stream({"context": docs, "input": question}):
            if piece and not pieces:
                timings["first_token"] = time.perf_counter() - t
            if piece:
                pieces.append(piece)
        timings["generate"] = time.perf_counter() - t
        text = "".join(pieces).strip()
        n_tokens = self.llm.count_tokens(text) if text else 0
        decode = timings["generate"] - timings.get("first_token", 0.0)
        timings["tokens"] = n_tokens
        timings["tokens_per_second"] = (n_tokens - 1) / decode if n_tokens > 1 and decode > 0 else 0.0
        timings["total"] = time.perf_counter() - started
        return {"text": text, "docs": docs, "timings": timings}
