"""The one answer classifier: a model's text -> yes / no / refusal / no_image / unparsed.

Every place that reads a verdict from a model's words calls ``classify``: the benchmark's
answer 1 (``bench.parsing.classify_answer``), the persona Simple decision and ISQ yes/no
fields (``persona.parsing``). The rules (docs/benchmark.md, "Answers and scores", has an
example for each):

1. No text: ``unparsed``; a refusal flagged by the API: ``refusal``.
2. The model says it got no image ("The image didn't come through", "Please upload the
   image", "我看不到图片"): ``no_image``, a pipeline failure, never the model's answer.
3. The text is cut into sentences (and lines); in each, known phrases become tokens: yes,
   no, hedge, negator, or neutral idioms. Phrases are matched longest first, so "no problem",
   "no doubt" and "不错" are yes, "not really", "不喜欢" no, "不确定", "no sé", "vielleicht"
   hedges, and "no one" nothing. "no" inside a sentence before a word ("there is no text")
   is a determiner, not an answer; short words that are also other words ("sure", "si",
   "da", "ja", "是", "对") count only when they open the sentence.
4. The first sentence holding an answer token decides: one polarity -> that answer; both
   polarities ("Yes and no"), a hedge near the answer ("Yes, maybe"), or an answer word
   under a negator ("I wouldn't say yes", "好きではない"): ``unparsed``.
5. Two answers in one: a later sentence that is a bare answer of another kind ("Yes.\\n\\nNo.",
   "Yes. Maybe.") makes the whole ``unparsed``.
6. No sentence decides, or the deciding one is unparsed after the model declined ("I'm
   sorry, I can't assist", "I'd rather not answer that", "As an AI ..."): ``refusal``; a
   disclaimer followed by a clear answer ("I don't have preferences, but yes") is that answer.
7. Anything else: ``unparsed``. Being unsure is allowed; the opposite polarity never is.

``VERSION`` changes whenever a rule changes a class; the benchmark records it per run and
``vspectrum bench reclassify`` re-reads old runs with the current rules.
"""

from __future__ import annotations

import re
import unicodedata

VERSION = 3
READ_CHARS = 4000  # a verdict opens an answer; past this it is explanation (and bounds the cost)
CLASSES = ("yes", "no", "refusal", "unparsed", "no_image")

# --- the phrase tables (lower case; matched whole for letters, as substrings for CJK) ---------
_YES = """
yes|yeah|yep|yup|yess|yes please|absolutely|definitely|certainly|of course|for sure|indeed|totally
i do|i like it|i like this|i like that|i really like it|i really like this|i quite like it|i do like it
i love it|i love this|i love that|i enjoy it|i enjoy this|i'd say yes|i would say yes|i think so
no problem|no problems|no doubt|without a doubt|no question|no questions asked|no-brainer|a no-brainer
not bad|not bad at all|not at all boring|why not|sounds good|looks good|i'm in|thumbs up|very much so
sí|sì|oui|ouais|bien sûr|j'aime|j'aime bien|j'adore|absolument|pas mal|plutôt oui|carrément
me gusta|me encanta|claro que sí|por supuesto|no está mal|nada mal|desde luego
mi piace|mi piace molto|certamente|certo che sì
gefällt mir|gefällt mir gut|mag ich|ich mag es|auf jeden fall|nicht schlecht|kein problem|definitiv|genau
конечно да|нравится|очень нравится|мне нравится|неплохо|не плохо|безусловно|разумеется
gosto|eu gosto|sim, gosto
evet|tak|jah|네, 좋아요|좋아요|좋네요
是的|喜欢|很喜欢|挺喜欢|我喜欢|不错|还不错|挺不错|挺好|很好|感兴趣|有兴趣|有意思|很有意思|有趣|很有趣|好看|当然是|当然喜欢|对的|没问题
はい|好き|好きです|大好き|大好きです|好きですね|もちろん|いいですね|いいね|いいと思います|面白い|面白そう|興味があります|興味深い
👍|✅|✔|👌|😍|❤
"""
_NO = """
不|没|别|没有|no|nope|nah|no thanks|no thank you|i do not like|i don't like|i did not like|i didn't like
not for me|not my thing|not my style|not my cup of tea|not interested|not interesting|not very interesting
not that interesting|not a fan|i'm not a fan|don't like|do not like|didn't like|dislike|hate|i don't think so
i do not think so|absolutely not|definitely not|certainly not|of course not|no, thanks|i'd say no|i would say no
non|non merci|je n'aime pas|je n'aime pas trop|j'aime pas|j'aime pas trop|j'aime pas ça|je n'aime pas ça|pas vraiment|pas du tout|absolument pas|plutôt non
bien sûr que non|pas pour moi|pas terrible
no me gusta|no me encanta|no me interesa|para nada|en absoluto|no mucho|no realmente|claro que no|por supuesto que no
la verdad es que no|non mi piace|per niente|non molto
nein|nö|nee|gefällt mir nicht|gefällt mir nicht so|mag ich nicht|ich mag es nicht|nicht wirklich|eher nicht
gar nicht|überhaupt nicht|natürlich nicht|auf keinen fall|nicht mein fall|nicht so
нет|конечно нет|не нравится|мне не нравится|не очень|не особо|совсем нет|вовсе нет|ни за что|нисколько
não|não gosto|hayır|nie|ei|아니요|아니오|아뇨|싫어요|별로예요
不喜欢|不太喜欢|不是很喜欢|不怎么喜欢|不感兴趣|不太感兴趣|没兴趣|没有兴趣|没意思|没有意思|不好看|不好|不对|不是
不行|不想看|不想|不要|不会|无聊|很无聊|当然不|当然不是|不吸引人|不有趣|否
いいえ|好きではない|好きではありません|好きじゃない|好きじゃありません|好きではないです|嫌い|嫌いです
興味がない|興味がありません|興味ありません|興味はありません|面白くない|面白くありません|よくない|つまらない
👎|❌|🙅
"""
_HEDGE = """
maybe|perhaps|possibly|probably|probably not|probably yes|not sure|not so sure|unsure|uncertain|i don't know
i do not know|dunno|i guess|i guess so|kind of|kinda|sort of|somewhat|hard to say|difficult to say|can't say
cannot say|can't decide|cannot decide|it depends|depends|neither|either way|could go either way|mixed feelings
so-so|meh|partially|partly|who knows|debatable|not certain|not entirely|not quite|50/50|yes and no|🤔|🤷
peut-être|peut être|je ne sais pas|ça dépend|ca dépend|je ne suis pas sûr|je ne suis pas sûre|pas sûr|pas sûre|bof
no sé|no lo sé|no estoy seguro|no estoy segura|tal vez|quizás|quizá|depende|puede ser|más o menos|quien sabe
forse|non so|non lo so|dipende|boh
vielleicht|weiß nicht|weiss nicht|ich weiß es nicht|ich weiss es nicht|keine ahnung|kommt darauf an|kommt drauf an
nicht sicher|bin mir nicht sicher|schwer zu sagen|teils teils|jein|eher ja
не знаю|может быть|возможно|наверное|не уверен|не уверена|трудно сказать|сложно сказать|зависит|не совсем|и да и нет
talvez|não sei|모르겠어요|글쎄요
不确定|不知道|说不好|不一定|不清楚|不好说|难说|很难说|也许|可能|或许|看情况|一般|还行|还可以|说不准|不太确定|不好判断
わからない|分からない|わかりません|分かりません|たぶん|多分|かもしれません|かもしれない|どちらとも言えない
どちらとも言えません|どちらとも|微妙|なんとも言えない|何とも言えません|どうでもいい|まあまあ
"""
_NEUTRAL = """
this kind of|that kind of|the kind of|a kind of|what kind of|some kind of|any kind of|this sort of|that sort of
the sort of|a sort of|some sort of|what sort of|no one|nobody|no matter|no longer|no wonder|no more|no less|not only|no other|not just|no need|no-one
yes-man
但是|不过|不仅|不同|不少|不断|不管|是否|还是|就是|只是|可是|总是|于是|要是|对于|对我|对我来说|好像|不但|只不过|是不是
そうですね
"""
_NEGATOR = """
not|never|hardly|cannot|can't|won't|wouldn't|don't|doesn't|didn't|isn't|aren't|wasn't|shouldn't|couldn't|nor
kein|keine|niemals|nunca|не|ни
"""
# negators that also follow what they negate ("J'aime pas", "Ich mag das nicht")
_NEGATOR_BOTH = """
nicht|nie|pas|jamais
"""
# a 不 / 没 / 别 inside a run negates what follows ("不太好看"): known phrases ("不喜欢", "不确定",
# "不过") are matched first, being longer
_NEGATOR_CJK = ("不", "没", "别")
# Spanish, Italian, Portuguese: "no" opening a sentence before one of these is a negator
# ("No lo tengo claro", "No es aburrido"), not the answer ("No, ..." and "No I don't" are)
_ROMANCE_AFTER_NO = frozenset(
    "lo la le les me te se nos es está están estoy era fue hay sé sabría creo tengo puedo mi ti è ho so sono "
    "c'è credo posso é sei acho tenho gosto".split()
)
_NEGATOR_AFTER = """
ない|ません|なかった|なく
"""
# short words that are other words too ("si" = if, "da" = gives, "是" = is): an answer only
# when they open a sentence
_OPENING_YES = """
sure|si|sim|da|да|ja|claro|klar|natürlich|certo|конечно|当然|是|对|好|好的|嗯嗯|うん|ええ|네|예|okay sure
"""
_OPENING_NO = """
ううん|no way|not really|not at all|not much|not particularly|not especially
"""
INTERJECTIONS = frozenset(
    "sorry well hmm hm um uh umm honestly frankly ok okay oh ah actually answer decision response final my "
    "short so personally overall verdict bueno pues bon eh bien also na ну хм ой 嗯 えっと あの まあ".split()
)
# an answer only when nothing follows in the sentence ("I do." but not "I do not like it")
_ALONE = {"i do"}
# a lone CJK character that is also part of words: an answer only when no CJK character follows
_CJK_LONE = {"是": "W", "对": "W", "好": "W", "没有": "N"}

_NO_IMAGE = re.compile(
    "|".join(
        [
            r"\b(can ?not|can't|could ?not|couldn't|unable to|don't|do not|didn't|did not) (see|view|access|open|load|find"
            r"|display|detect|process) (any|an|the|this|that|your|a)? ?(image|picture|photo|attachment|screenshot)",
            r"\bno (image|picture|photo|attachment|screenshot)s? (was |were |is |has been |have been )?(attached|provided|"
            r"included|uploaded|shared|visible|received|came through|found|here|in your message)",
            r"\b(image|picture|photo|attachment|screenshot) (failed to load|did ?n[o']t load|could ?n[o']t be loaded|"
            r"did ?n[o']t come through|didn't come through|has not come through|hasn't come through|isn't showing|"
            r"is not showing|(is|seems|appears)( to be)? (missing|blank|empty|not (attached|visible|loading|there)))",
            r"\b(image|picture|photo|attachment) (is(n't| not) (visible|attached|loading))",
            r"\b(image|picture|photo|attachment|screenshot) (didn't|did not|failed to|couldn't|could not|wasn't able"
            r" to) (upload|load|come through|attach|arrive|be uploaded|be attached)",
            r"\bthere (is|was|seems to be|appears to be) no (image|picture|photo|attachment|screenshot)",
            r"\b(haven't|have not|did ?n[o']t|didn't) (received|receive|get|got) (an?|any|the) (image|picture|photo|"
            r"attachment|screenshot)",
            r"\b(please|could you|can you|kindly) (re-?)?(upload|attach|share|provide|send|include) (the|an|a|your)"
            r" (image|picture|photo|screenshot)",
            r"\bwithout (seeing |an |the )?(image|picture|photo)",
            r"\bi don't see (an?|any) (image|picture|photo|attachment)",
            # other languages
            r"没有(看到|收到)?(任何)?(图片|图像|照片)|看不到(任何)?(图片|图像|照片)|(图片|图像|照片)(没有|未能|无法)(加载|显示|上传)"
            r"|无法(查看|看到|打开)(图片|图像|照片)|请(上传|提供|发送)(图片|图像|照片)",
            r"画像が(見え|表示され|添付され|読み込め|届い)(ません|ていません|ない)|画像を(確認|見る|表示する)ことができません"
            r"|画像が(ありません|見当たりません)",
            r"no (puedo|logro|consigo) ver (la|ninguna|una) imagen|no (se )?(ha|he) (adjuntado|recibido|cargado) (ninguna|la)"
            r" imagen|no hay (ninguna )?imagen",
            r"je ne (peux|vois) pas (voir )?(l'|d'|d'une |une |aucune )?image|aucune image|pas d'image",
            r"\bkein(e)? bild|bild (wurde )?nicht (geladen|angehängt|übermittelt|angezeigt)|kann (das|kein) bild nicht"
            r" sehen|sehe (kein|das) bild nicht",
            r"не вижу (никакого )?изображени|изображение не (загрузилось|прикреплено|отображается)|нет (никакого )?изображения",
        ]
    )
)
_REFUSAL = re.compile(
    "|".join(
        [
            r"\b(i'm|i am) sorry\b",
            r"^sorry\b",
            r"\bi (can ?not|can't|won't|am unable to|'m unable to)\b",
            r"\bunable to (assist|help|provide|answer|share|give|comply)\b",
            r"\bas an? (ai|artificial intelligence|(large )?language model|assistant)\b",
            r"\b(i'm|i am) (just |only )?an? (ai|artificial intelligence|(large )?language model)\b",
            r"\b(i|i'm|i am) (don't|do not|not) (have|hold|form|express) (any )?(personal )?(preferences|feelings|opinions"
            r"|likes|tastes|views)\b",
            r"\bi (don't|do not) have the (ability|capacity) to\b",
            r"\b(can ?not|can't|do not|don't) have (personal )?(preferences|feelings|opinions|likes)\b",
            r"\bnot able to (assist|help|provide|share|give|answer|express|form|have)\b",
            r"\b(i'd|i would) (rather|prefer) not\b",
            r"\bi prefer not to (answer|say|comment|share|give)\b",
            r"\bnot in a position to\b",
            r"\bi (must|have to|will) (decline|refrain)\b",
            r"\bunfortunately,? i (can't|cannot|am unable)\b",
            # other languages
            r"作为(一个)?(ai|人工智能|语言模型)|我(无法|不能)(回答|提供|评价|表达)|抱歉|我没有(个人)?(喜好|偏好|观点)",
            r"aiとして|申し訳(ありません|ございません)|お答えできません|個人的な(好み|意見)(は|を)(持って|持ち)",
            r"como (una )?(ia|inteligencia artificial|modelo de lenguaje)|lo siento|no puedo (responder|ayudar|opinar|dar)",
            r"en tant qu'(ia|intelligence artificielle|assistant)|je suis désolée?|je ne peux pas (répondre|donner|aider)",
            r"\bals (ki|künstliche intelligenz|sprachmodell)|tut mir leid|ich kann (dazu )?(keine|nicht) (antworten|meinung"
            r"|aussage)|keine persönlichen (vorlieben|meinungen)",
            r"как (ии|искусственный интеллект|языковая модель)|извините|я не могу (ответить|выразить|помочь)|у меня нет (личных )?"
            r"(предпочтений|мнения)",
        ]
    )
)

_CJK = r"\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af"
_SPLIT = re.compile(r"[.!?。！？…;；\n]+")
_WORD = re.compile(r"[\w'’-]+")
_TOKEN = re.compile(r"\x00(\w+)\x00|([\w'/-]+)|([,:，、])")


def _table() -> tuple[re.Pattern[str], dict[str, str]]:
    kinds: dict[str, str] = {}
    for kind, text in (
        ("X", _NEUTRAL),
        ("NEG", _NEGATOR),
        ("NEGJ", _NEGATOR_AFTER),
        ("NEGB", _NEGATOR_BOTH),
        ("H", _HEDGE),
        ("W", _OPENING_YES),
        ("WN", _OPENING_NO),
        ("N", _NO),
        ("Y", _YES),
    ):
        for phrase in re.split(r"[|\n]", text):
            if phrase.strip():
                kinds.setdefault(phrase.strip(), kind)  # the first table wins a phrase listed twice
    lone = [p for p in kinds if p in _CJK_LONE]
    words = [p for p in kinds if re.match(r"[\w']", p) and not re.match(rf"[{_CJK}]", p)]
    others = [p for p in kinds if p not in lone and p not in words]
    # tries: one regex alternative per phrase made every position try ~900 of them (4 ms an answer)
    pattern = (  # a lone word first: "没有" alone is a no, where the trie would take its "没" as a negator
        rf"(?<![\w'-]){_trie(words)}(?![\w'-])"
        rf"|(?:{'|'.join(map(re.escape, sorted(lone, key=len, reverse=True)))})(?![{_CJK}])|{_trie(others)}"
    )
    return re.compile(pattern), kinds


def _trie(phrases: list[str]) -> str:
    """A regex matching any of ``phrases``, the longest first at a position (greedy, with
    backtracking to a shorter one when what follows does not fit)."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for phrase in phrases:
        node = root
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:  # type: ignore[type-arg]
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + build(root) + ")"


_PHRASES, _KINDS = _table()


def normalise(text: str) -> str:
    """Lower case, NFKC (full-width punctuation), straight apostrophes, no markdown emphasis."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"[*_#`>~|\"«»「」『』]+", " ", text)
    return re.sub(r"[ \t]+", " ", text)


def _opening(sentence: str, start: int) -> bool:
    """Whether only interjections (or nothing) precede position ``start`` of a sentence."""
    return all(w in INTERJECTIONS for w in _WORD.findall(sentence[:start]))


def _next_word(sentence: str, end: int) -> str | None:
    """The word right after position ``end`` when only spaces separate them."""
    m = re.match(r" +([\w']+)", sentence[end:])
    return m.group(1) if m else None


def tokens(sentence: str) -> list[str]:
    """A sentence as tokens: Y, N, H (hedge), NEG (negator), ',' and plain words."""

    def mark(m: re.Match[str]) -> str:
        phrase = m.group(0)
        kind = _KINDS[phrase]
        if phrase in _NEGATOR_CJK and re.match(rf"[{_CJK}]", sentence[m.end() : m.end() + 1]):
            kind = "NEG"
        elif phrase == "no" and _opening(sentence, m.start()) and _next_word(sentence, m.end()) in _ROMANCE_AFTER_NO:
            kind = "NEG"
        elif phrase in _ALONE and sentence[m.end() :].strip(" ,:!-"):
            kind = "X"
        elif kind in ("W", "WN"):
            kind = ("Y" if kind == "W" else "N") if _opening(sentence, m.start()) else "X"
        elif phrase in ("no", "non") and not _opening(sentence, m.start()):
            if re.match(r"\s*[^\W\d_]", sentence[m.end() :]):
                kind = "X"  # "there is no text": a determiner, not the answer
        return f" \x00{kind}\x00 "

    out = []
    for m in _TOKEN.finditer(_PHRASES.sub(mark, sentence)):
        marker, word, comma = m.groups()
        if marker:
            out.append(marker)
        elif comma:
            out.append(",")
        elif word.endswith("n't") or word.startswith("n'"):
            out.append("NEG")
        elif word in INTERJECTIONS:
            out.append("I")
        else:
            out.append("w")
    return [t for t in out if t != "X"]  # neutral idioms ("no one") say nothing


def verdict(toks: list[str]) -> str | None:
    """One sentence's verdict: yes, no, hedge (a hedge near the answer or a negated answer
    word), mixed (both polarities) or None (no answer token)."""
    answers = [i for i, t in enumerate(toks) if t in ("Y", "N")]
    if not answers and "H" not in toks:
        return None
    for i in answers:
        before, after = toks[max(0, i - 3) : i], toks[i + 1 : i + 4]
        before = before[len(before) - before[::-1].index(",") :] if "," in before else before
        after = after[: after.index(",")] if "," in after else after
        if "NEG" in before or "NEGB" in before or "NEGJ" in after or "NEGB" in after:
            return "hedge"  # "I wouldn't say yes", "好きではない", "嫌いじゃない", "J'aime pas"
    near = {j for i in answers for j in range(i - 3, i + 4)}
    if any(t == "H" and (j < 7 or j in near) for j, t in enumerate(toks)):
        return "hedge"
    if not answers:
        return None  # a hedge deep in a description ("perhaps as a surprise") is no verdict
    kinds = {toks[i] for i in answers}
    return "mixed" if len(kinds) == 2 else ("yes" if kinds == {"Y"} else "no")


def _bare(toks: list[str]) -> bool:
    """A sentence that is nothing but an answer ("No.", "Actually, no", "Maybe!")."""
    return 0 < len(toks) <= 5 and all(t in ("Y", "N", "H", "I", ",", "NEG", "NEGJ", "NEGB") for t in toks)


def looks_like_no_image(text: str | None) -> bool:
    """The model says it received no image: the pipeline failed, the model did not answer."""
    return bool(text and _NO_IMAGE.search(normalise(text)))


def looks_like_refusal(text: str | None) -> bool:
    """A declining answer ("I'm sorry, I can't ...", "I'd rather not answer that")."""
    return bool(text and _REFUSAL.search(normalise(text)))


def classify(text: str | None, refused_by_api: bool = False) -> str:
    """The class of a model's answer (see the module's rules)."""
    if refused_by_api:
        return "refusal"
    if not text or not text.strip():
        return "unparsed"
    norm = normalise(text[:READ_CHARS])
    if _NO_IMAGE.search(norm):
        return "no_image"
    sentences = [s.strip(" ,:-") for s in _SPLIT.split(norm)]
    sentences = [s for s in sentences if _WORD.search(s) or _PHRASES.search(s)]
    toks = [tokens(s) for s in sentences]
    refused_at = next((i for i, s in enumerate(sentences) if _REFUSAL.search(s)), None)
    for i, t in enumerate(toks):
        v = verdict(t)
        if v is None:
            continue
        if v in ("yes", "no"):
            later = [verdict(u) for u in toks[i + 1 :] if _bare(u)]
            return "unparsed" if any(w not in (None, v) for w in later) else v
        return "refusal" if refused_at is not None and refused_at <= i else "unparsed"
    return "refusal" if refused_at is not None else "unparsed"


def yes_no(text: str | None) -> str | None:
    """``classify`` narrowed to a decision: "yes", "no" or None (anything else)."""
    cls = classify(text)
    return cls if cls in ("yes", "no") else None
