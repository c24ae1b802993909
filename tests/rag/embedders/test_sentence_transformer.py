"""The sentence-transformers backend's options on a tiny random model saved offline: the model's
named prompts, a stable identity for a local folder, and the dtype by capability."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rag.embedders import SentenceTransformerEmbedder
from rag.errors import ModelError
from rag.testing import EmbedderContract

TEXTS = [*EmbedderContract.TEXTS, "où dort le chat ?", "requête passage"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    """A 2-layer random BERT with a word-level tokenizer and two named prompts."""
    pytest.importorskip("sentence_transformers")
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer import modules as st_models
    except ImportError:
        from sentence_transformers import models as st_models
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    words = sorted({w for text in TEXTS for w in re.findall(r"\w+", text.lower())})
    vocab = {token: i for i, token in enumerate(specials + words)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    directory = tmp_path_factory.mktemp("tiny-st")
    BertModel(config).save_pretrained(directory / "bert")
    tokenizer.save_pretrained(directory / "bert")
    transformer = st_models.Transformer(str(directory / "bert"), max_seq_length=64)
    dimension = getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension
    pooling = st_models.Pooling(dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling], prompts={"query": "requête ", "document": "passage "})
    model.save(str(directory / "model"))
    return directory / "model"


class TestWithNamedPrompts(EmbedderContract):
    TEXTS = TEXTS[:3]

    @pytest.fixture
    def embedder(self, tiny_dir):
        return SentenceTransformerEmbedder(str(tiny_dir), device="cpu", model_id="tiny", prompts=("query", "document"))


def test_queries_and_passages_get_their_named_prompts(tiny_dir):
    plain = SentenceTransformerEmbedder(str(tiny_dir), device="cpu")
    prompted = SentenceTransformerEmbedder(str(tiny_dir), device="cpu", prompts=("query", "document"))
    text = "le chat dort"
    np.testing.assert_allclose(plain.embed_query(text), plain.embed_passages([text])[0], atol=1e-6)
    assert not np.allclose(prompted.embed_query(text), prompted.embed_passages([text])[0], atol=1e-3)
    model = prompted._load()  # the same vectors as sentence-transformers' own prompt handling
    expected = model.encode([text], prompt="requête ", normalize_embeddings=True)[0]
    np.testing.assert_allclose(prompted.embed_query(text), expected, atol=1e-5)
    # the prompt is not counted: chunk sizes are about the text itself
    assert prompted.count_tokens(text) == plain.count_tokens(text) == 3


def test_the_identity_is_the_given_one_whatever_the_folder(tiny_dir):
    assert SentenceTransformerEmbedder(str(tiny_dir), model_id="tiny-v1").model_id == "tiny-v1"
    assert SentenceTransformerEmbedder(str(tiny_dir)).model_id == f"sentence-transformers/{tiny_dir}"


def test_a_prompt_the_model_lacks_is_a_clear_error(tiny_dir):
    embedder = SentenceTransformerEmbedder(str(tiny_dir), device="cpu", prompts=("query", "passage"))
    with pytest.raises(ModelError, match="no prompt named 'passage'"):
        embedder.embed_query("x")


def test_dtype_by_capability_or_as_given(tiny_dir):
    from rag.hardware import native_cpu_dtype

    def loaded(dtype):
        embedder = SentenceTransformerEmbedder(str(tiny_dir), device="cpu", dtype=dtype)
        vector = embedder.embed_query("le chat")
        assert vector.dtype == np.float32 and abs(float(np.linalg.norm(vector)) - 1) < 1e-3
        return embedder.dtype, str(next(embedder._load().parameters()).dtype).removeprefix("torch.")

    assert loaded(None) == ("float32", "float32")  # what indexes built so far hold
    assert loaded("auto") == (native_cpu_dtype(),) * 2
    assert loaded("bfloat16") == ("bfloat16", "bfloat16")
    with pytest.raises(ModelError, match="Unknown dtype"):
        loaded("float12")
