"""A guard's refusal: a stable code and a human-readable text in Chinese and English."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    guard: str
    zh: str
    en: str

    @property
    def message(self):
        return self.zh

    def text(self, lang='zh'):
        return self.en if lang == 'en' else self.zh

    def as_dict(self):
        return {'guard': self.guard, 'zh': self.zh, 'en': self.en}
