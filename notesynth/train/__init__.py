"""Training the masked LM: corpus and tokenizer (data.py), masking (collator.py), the loop
(trainer.py) and the model folder with its card (card.py)."""
from notesynth.train.collator import WholeWordMaskCollator
from notesynth.train.data import encode_blocks, load_corpus_texts, split_documents, train_tokenizer
from notesynth.train.trainer import SIZES, TrainConfig, evaluate_blocks, train

__all__ = ["SIZES", "TrainConfig", "WholeWordMaskCollator", "encode_blocks", "evaluate_blocks", "load_corpus_texts",
           "split_documents", "train", "train_tokenizer"]
