"""A tiny random Qwen2 model saved offline (real architecture, a few layers), for the
transformers backend's tests and the factory's."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.testing import MESSAGES

SENTENCES = [
    "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche.",
    "Le pain au levain cuit quatre heures dans un four à bois chauffé au chêne.",
    "Le musée municipal expose trois cents tableaux flamands et l'entrée coûte huit euros.",
    "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
    "Réponds d'après les passages. À quelle heure ouvre le Fournil ? Quand a lieu le marché ?",
]


CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# -- transformers on a tiny random Qwen2 --------------------------------------------------------
def _tiny_tokenizer():
    """A byte-level BPE like Qwen's, trained on a few French sentences, with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    core.train_from_iterator(SENTENCES + [m["content"] for m in MESSAGES], trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _tiny_model(vocab_size: int, eos: int, pad: int, max_positions: int = 512):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        eos_token_id=eos,
        pad_token_id=pad,
        tie_word_embeddings=False,
    )
    model = Qwen2ForCausalLM(config)
    with torch.no_grad():  # never pick a special token (ids 0-2): random weights would end turns at random
        model.lm_head.weight[:3] = 0.0
    return model


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    tokenizer = _tiny_tokenizer()
    model = _tiny_model(len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)
    directory = tmp_path_factory.mktemp("tiny-qwen2")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
