"""The official ``openai`` package against the live server on a loopback port: a completion
and a streamed one, the citations read from the extra fields, a wrong key refused."""

from __future__ import annotations

import pytest

openai = pytest.importorskip("openai")

from rag.server import create_app, running  # noqa: E402
from rag.service import RagService  # noqa: E402
from rag.testing import ScriptedLLM  # noqa: E402
from tests.rag.server.conftest import QUESTION, cites_the_opening_hour, server_settings  # noqa: E402

KEY = "cle-de-test"


@pytest.fixture
def base_url(index_dir):
    settings = server_settings(index_dir, **{"server.api_key": KEY})
    service = RagService.open(index_dir, settings=settings, llm=ScriptedLLM(cites_the_opening_hour))
    with running(create_app(settings, service=service)) as url:
        yield f"{url}/v1"


def test_a_completion_with_its_citations(base_url):
    client = openai.OpenAI(base_url=base_url, api_key=KEY)
    assert [m.id for m in client.models.list()] == ["rag-fr"]
    completion = client.chat.completions.create(model="rag-fr", messages=[{"role": "user", "content": QUESTION}])
    text = completion.choices[0].message.content
    assert text.startswith("Le fournil ouvre à sept heures [")
    citation = completion.citations[0]  # an extra field, kept by the client
    assert citation["source"] == "fournil.md" and f"[{citation['number']}]" in text
    start, end = citation["span"]
    assert "sept heures" in citation["text"][start:end]
    assert completion.abstained is False and completion.abstain_reason is None and "total" in completion.timings


def test_a_streamed_completion(base_url):
    client = openai.OpenAI(base_url=base_url, api_key=KEY)
    stream = client.chat.completions.create(
        model="rag-fr", messages=[{"role": "user", "content": QUESTION}], stream=True, extra_body={"k": 3}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Le fournil ouvre à sept heures [")
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.citations[0]["source"] == "fournil.md"
    assert len(last.hits) == 3
    assert any(getattr(c, "rag_event", None) and c.rag_event["type"] == "hits" for c in chunks)


def test_a_wrong_key_is_refused(base_url):
    client = openai.OpenAI(base_url=base_url, api_key="autre", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="rag-fr", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.status_code == 401 and "Incorrect API key" in str(caught.value)
    with pytest.raises(openai.BadRequestError, match="The question is empty"):
        openai.OpenAI(base_url=base_url, api_key=KEY).chat.completions.create(
            model="rag-fr", messages=[{"role": "user", "content": " "}]
        )
