"""``rag.langchain.RagRetriever`` against LangChain's own standard retriever suite
(``langchain-tests``), plus what the suite does not check: filters given at invoke time."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")
tests_module = pytest.importorskip("langchain_tests.integration_tests")
pytest.importorskip("pytest_asyncio")  # the suite's async test needs it

from rag.langchain import RagRetriever  # noqa: E402
from rag.retrieval import Filters  # noqa: E402
from rag.service import RagService  # noqa: E402

DOCS = {
    "boulangerie.md": "Le pain au levain cuit quatre heures dans le four à bois.",
    "tarifs.md": "La baguette coûte un euro et dix centimes depuis janvier.",
    "musee.txt": "Le musée des beaux-arts ouvre à dix heures. Il ferme le mardi.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
}


@pytest.fixture(scope="module")
def service(hashing_index):
    with RagService.open(hashing_index(DOCS, dim=64)) as svc:
        yield svc


@pytest.fixture(autouse=True)
def _shared_service(request, service):
    """The standard suite builds retrievers from a property; it reads the service from here."""
    if request.cls is not None:
        request.cls.service = service


class TestRagRetrieverStandard(tests_module.RetrieversIntegrationTests):
    service = None

    @property
    def retriever_constructor(self) -> type[RagRetriever]:
        return RagRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"service": self.service}

    @property
    def retriever_query_example(self) -> str:
        return "Combien coûte la baguette ?"


def test_filters_given_at_invoke_time_win(service):
    retriever = RagRetriever(service=service, k=4)
    assert len(retriever.invoke("heures")) == 4
    only = retriever.invoke("heures", filters=Filters(source_globs=("musee*",)))
    assert only and {d.metadata["source"] for d in only} == {"musee.txt"}
    assert len(retriever.invoke("heures")) == 4  # the call's k and filters do not stick
