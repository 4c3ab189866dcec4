"""Arabic and English text analysis: tokens with original character spans and analysed forms.

>>> from rasd.text import analyse
>>> [(t.text, t.key) for t in analyse("والقوات انسحبت", "ar")]
[('والقوات', 'قوا'), ('انسحبت', 'انسحب')]
"""

from rasd.text.analysis import Token, analyse, analyse_word, base_lang
from rasd.text.language import item_language, script_language

__all__ = ["Token", "analyse", "analyse_word", "base_lang", "item_language", "script_language"]
