"""The shipped rules in rules/: the seed article, each rule's core cases, the hard cases."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from rasd.models import Article
from rasd.rules import Matcher, load_rules

RULES_DIR = Path(__file__).resolve().parents[3] / "rules"

# The seed article (Al Jazeera): its title, lead paragraph, and a few paragraphs of its body.
SEED_TITLE = "كادت تتسبب بحرب مفتوحة مع إيران.. التحالف الدولي يسحب قواته من قاعدة مهمة بالعراق"
SEED_LEAD = (
    "أعلن التحالف الدولي لمحاربة تنظيم الدولة الإسلامية سحب قواته من قاعدة كركوك الجوية "
    "(شمالي العراق) وتسليم المعدات للقوات العراقية، وأوضح أن ذلك يأتي في إطار إعادة تموضع "
    "القوات في العراق وليس له علاقة بالهجمات الأخيرة التي تعرضت لها قواعد عسكرية عدة يوجد "
    "فيها قوات من التحالف."
)
SEED_BODY = "\n".join(
    [
        SEED_LEAD,
        'وأضاف أن "الانسحاب من القاعدة وتسليمها للقوات العراقية خطط له منذ أشهر"، مؤكدا '
        "استمرار التحالف في محاربة تنظيم الدولة.",
        "يشار إلى أن قاعدة كركوك هذه كانت قد شهدت نهاية ديسمبر/كانون الأول الماضي مقتل متقاعد "
        "أميركي جراء قصفها بصواريخ، اتهمت الولايات المتحدة مليشيات مدعومة من إيران بالوقوف "
        "وراء القصف.",
        "وتسلمت القوات العراقية في وقت سابق من هذا الشهر قاعدة القائم غربي البلاد على الحدود "
        "مع سوريا، كما تسلمت قاعدة القيارة في محافظة نينوى (شمالي البلاد) من التحالف الدولي.",
    ]
)


@cache
def matcher() -> Matcher:
    result = load_rules(RULES_DIR)
    assert result.errors == []
    return Matcher(result.rules)


def matched(title: str, summary: str = "", lang: str = "ar", body: str | None = None) -> dict:
    a = Article(id="t", outlet="o", feed="f", lang=lang, title=title, summary=summary, body=body)
    return {m.rule_id: m for m in matcher().match(a)}


def test_default_rules_are_valid_and_bilingual():
    rules = load_rules(RULES_DIR).rules
    assert len(rules) >= 8
    for rule in rules:
        assert rule.notify and rule.cooldown and rule.escalate, rule.id
        text = rule.match.model_dump_json()
        assert any("\u0600" <= ch <= "\u06ff" for ch in text), f"{rule.id} has no Arabic terms"
        assert any("a" <= ch <= "z" for ch in text.lower()), f"{rule.id} has no English terms"
    by_id = {r.id: r for r in rules}
    assert "attack" in by_id["rocket-attack"].tags and "attack" in by_id["air-strike"].tags
    assert "withdrawal" in by_id["troop-withdrawal"].tags


@pytest.mark.parametrize(
    "article",
    [
        {"title": SEED_TITLE, "summary": SEED_LEAD},
        {"title": SEED_TITLE, "body": SEED_BODY},
    ],
    ids=["title+summary", "body"],
)
def test_seed_article_is_a_withdrawal_in_kirkuk_iraq_not_an_attack(article):
    found = matched(**article)
    assert {"kirkuk", "iraq", "k1"} <= set(found["troop-withdrawal"].places)
    # It recalls earlier rocket attacks on bases as background: one event, one alert.
    assert "rocket-attack" not in found


@pytest.mark.parametrize(
    ("rule_id", "title", "lang"),
    [
        ("rocket-attack", "سقوط صواريخ كاتيوشا على قاعدة عين الأسد غربي الأنبار", "ar"),
        ("rocket-attack", "هجوم بطائرة مسيرة مفخخة يستهدف مطار أربيل", "ar"),
        ("rocket-attack", "استهداف قاعدة فيكتوريا قرب مطار بغداد بثلاث قذائف هاون", "ar"),
        ("rocket-attack", "Rockets hit Ain al-Asad air base hosting US troops", "en"),
        ("rocket-attack", "Drone attack targets Erbil airport", "en"),
        ("air-strike", "غارات جوية أميركية على مواقع كتائب حزب الله في القائم", "ar"),
        ("air-strike", "مقاتلات تركية تقصف مواقع في سنجار", "ar"),
        ("air-strike", "US airstrikes hit militia targets near Albu Kamal", "en"),
        ("troop-withdrawal", "انسحاب القوات الأميركية من قاعدة القائم", "ar"),
        ("troop-withdrawal", "تسليم قاعدة القيارة الجوية إلى القوات العراقية", "ar"),
        ("troop-withdrawal", "Coalition hands over K1 base to Iraqi forces", "en"),
        ("troop-withdrawal", "Spain to withdraw troops from Iraq", "en"),
        ("embassy-threat", "صواريخ تسقط قرب السفارة الأميركية في المنطقة الخضراء", "ar"),
        ("embassy-threat", "Protesters storm US embassy compound in Baghdad", "en"),
        ("militia-threat", "كتائب حزب الله تتوعد القوات الأميركية بالرد", "ar"),
        ("militia-threat", "Iraqi militias threaten US forces after strike", "en"),
        ("foreign-evacuation", "ألمانيا تبدأ إجلاء رعاياها من العراق", "ar"),
        (
            "foreign-evacuation",
            "US orders evacuation of non-emergency staff from Baghdad embassy",
            "en",
        ),
        ("foreign-troop-casualties", "مقتل جندي أميركي بهجوم صاروخي في العراق", "ar"),
        ("foreign-troop-casualties", "Three US soldiers killed in drone attack in Jordan", "en"),
        ("truce-breakdown", "انهيار الهدنة بين الفصائل والقوات الأميركية", "ar"),
        ("truce-breakdown", "Ceasefire collapses as fighting resumes in Sinjar", "en"),
    ],
)
def test_each_rule_matches_its_events(rule_id, title, lang):
    assert rule_id in matched(title, lang=lang), title


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        # القاعدة as al-Qaeda
        ("زعيم تنظيم القاعدة يدعو إلى الانتقام في تسجيل جديد", "ar"),
        ("مقتل قيادي في تنظيم القاعدة باليمن", "ar"),
        # مسيرة as a march
        ("انطلاق مسيرة حاشدة في بغداد للمطالبة بالإصلاح", "ar"),
        ("مسيرة سلمية في البصرة تطالب بتوفير الكهرباء", "ar"),
        # "base" as a political base
        ("The president rallied his political base ahead of the vote", "en"),
        # withdrawal from treaties, races, elections, bank accounts
        ("الصدر يعلن انسحاب التيار من الانتخابات", "ar"),
        ("Trump announces US withdrawal from the Iran nuclear deal", "en"),
        ("Candidate withdraws from the race for governor", "en"),
        ("Banks limit cash withdrawals as currency slides", "en"),
        ("البنك المركزي يرفع سقف سحب الأموال من الحسابات", "ar"),
        ("البرلمان يصوت على سحب الثقة من الوزير", "ar"),
        # rockets that are not weapons
        ("ارتفاع صاروخي في أسعار الذهب", "ar"),
        ("SpaceX rocket launch delayed by weather", "en"),
        ("North Korea holds missile test", "en"),
        # strikes that are not from the air
        ("Teachers begin general strike over pay", "en"),
    ],
)
def test_hard_cases_do_not_match(title, lang):
    assert matched(title, lang=lang) == {}, title


@pytest.mark.parametrize(
    ("tag", "title", "lang"),
    [
        # Kinds of headline issue 10 found missed (written for it, each standing for many).
        ("attack", "الدفاعات الجوية تعترض صاروخا باليستيا فوق مأرب", "ar"),
        ("attack", "قصف مدفعي يستهدف بلدة في ريف إدلب", "ar"),
        ("attack", "مقتل ثلاثة مدنيين بقصف على الحديدة", "ar"),
        ("attack", "Israeli strikes hit homes in Khan Younis", "en"),
        ("attack", "Air attacks kill dozens in a refugee camp", "en"),
        ("attack", "Heavy bombing of the city continues overnight", "en"),
        ("withdrawal", "خروج دفعة جديدة من المسلحين بالحافلات من البلدة", "ar"),
        ("withdrawal", "UN peacekeepers begin pulling out of the country", "en"),
        ("withdrawal", "Last French troops leave the base in Niger", "en"),
        # More of each family, in the words headlines use.
        ("attack", "سقوط قذائف هاون على حي سكني في دمشق", "ar"),
        ("attack", "غارات إسرائيلية على جنوب لبنان", "ar"),
        ("attack", "مقاتلات روسية تقصف ريف إدلب", "ar"),
        ("attack", "الحوثيون يطلقون صاروخا باليستيا على جازان", "ar"),
        ("attack", "اعتراض طائرة مسيرة فوق أربيل", "ar"),
        ("attack", "Russian missile strike kills ten in Kharkiv", "en"),
        ("attack", "Air defences intercept rockets over Tel Aviv", "en"),
        ("attack", "Shelling kills five in Khartoum", "en"),
        ("attack", "Russia shells Kherson overnight", "en"),
        ("attack", "US launches strikes on Houthi targets", "en"),
        ("attack", "Warplanes pound rebel-held town", "en"),
        ("withdrawal", "US to pull troops out of Syria", "en"),
        ("withdrawal", "Russian forces retreat from Kherson", "en"),
        ("withdrawal", "Fighters evacuated from the city under a deal", "en"),
        ("withdrawal", "UN peacekeepers quit their base in Mali", "en"),
        ("withdrawal", "Ukraine's army withdraws from Avdiivka", "en"),
        ("withdrawal", "بدء إجلاء المسلحين وعائلاتهم من ريف حمص", "ar"),
        ("withdrawal", "القوات الفرنسية تغادر قاعدتها في النيجر", "ar"),
    ],
)
def test_the_core_words_of_each_family(tag, title, lang):
    assert any(tag in m.tags for m in matched(title, lang=lang).values()), title


@pytest.mark.parametrize(
    ("title", "lang"),
    [
        # Vetoes next to the trigger: threats, expectations, calls by others, tests.
        ("الحوثيون يهددون بقصف السفن في البحر الأحمر", "ar"),
        ("النفط يرتفع تحسبا لضربة أمريكية محتملة", "ar"),
        ("Houthis vow to launch more missiles at ships", "en"),
        ("Parliament calls for the withdrawal of foreign troops", "en"),
        ("Refugees forced to leave the camp as winter begins", "en"),
        ("Saudi company eyes a stake in Shell Pakistan", "en"),
        ("A car bombing kills five at a market", "en"),
        ("البرلمان يطالب بانسحاب القوات الأجنبية من البلاد", "ar"),
        ("الجيش يأمر السكان بإخلاء شمال المدينة", "ar"),
        ("Israel orders a million people to evacuate the north of Gaza", "en"),
        ("Company withdraws from the Russian market", "en"),
        ("Teachers strike over pay for a third day", "en"),
        ("Stock prices rocket as the missile maker signs a deal", "en"),
    ],
)
def test_vetoes_next_to_the_trigger(title, lang):
    tags = {t for m in matched(title, lang=lang).values() for t in m.tags}
    assert not tags & {"attack", "withdrawal"}, title


@pytest.mark.parametrize(
    "title",
    [
        # Written for issue 10's English withdrawal set (variants, not copies of its items):
        # a troop word with any leaving word, or the state that leaves, or a base handed over.
        "Moscow orders retreat from the city after months of occupation",
        "Russians prepare pullout from the regional capital",
        "Ukraine wary of Russia's announced withdrawal from the south",
        "Israel pulls a division of troops out of southern Gaza",
        "Israeli forces withdraw from the camp after a two-week raid",
        "Army reduces troops in the north as the offensive winds down",
        "Israel scales back troop presence in the strip",
        "Last American soldier leaves the country on the final flight",
        "Final US military flight departs the capital",
        "Coalition forces leave the sprawling airbase after 20 years",
        "Pentagon hands over its last drone base to the army",
        "Germany to bring home its troops from the Sahel",
        "UN ends its peacekeeping mission after a decade",
        "Peacekeepers evacuated from the besieged town",
        "America's withdrawal from the country is over, says the secretary of state",
        "Rebel fighters move out of the enclave under the truce",
        "Evacuation of the last defenders from the steel plant",
    ],
)
def test_english_withdrawals_in_headline_words(title):
    assert "troop-withdrawal" in matched(title, lang="en"), title


@pytest.mark.parametrize(
    "title",
    [
        # Recalled pull-outs: a year or "ago" a few words from the leaving word.
        "Women barred from work since taking power in 2021, as US forces were pulling out",
        "Two years ago, the last troops left the base",
        "Ex-president criticised the hasty US withdrawal from the country last year",
        "Veterans mark the anniversary of the withdrawal of troops",
        # What a state withdraws from, or withdraws, other than its troops.
        "Biden regrets the decision to withdraw the United States from the climate accord",
        "Russia withdraws from the grain deal",
        "US withdraws its ambassador after the row",
        "Russian stocks retreat as sanctions bite",
        "Israel withdraws its delegation from the talks in Doha",
        # Others' calls, threats, denials and broken pledges.
        "Kyiv says Moscow has broken a promise to pull back troops",
        "Russia threatens to withdraw troops unless talks resume",
        "Israel denies any retreat from the ridge",
        "France will not withdraw its soldiers, minister says",
        "Lawmakers urge the president to pull troops out of the region",
        # Everyday leaving words next to a soldier word.
        "Army chief quits after the scandal",
        "Far-left militants claim the bombing",
        "Soldiers pulled survivors out of the rubble",
        "Candidate pulls out of the race for mayor",
        "Hospital patients evacuated as the fire nears",
    ],
)
def test_english_withdrawal_vetoes(title):
    assert "troop-withdrawal" not in matched(title, lang="en"), title


@pytest.mark.parametrize(
    ("title", "is_attack"),
    [
        # A state or armed group that strikes, and the dead a strike leaves.
        ("Russia strikes port city in deadly overnight attack", True),
        ("Houthi strikes on army base kill 12 soldiers", True),
        ("Civilian deaths in drone strike investigated", True),
        # A strike in a condition or a deal is not one that happened.
        ("Moscow warns of war if Ukraine strikes inside Russia", False),
        ("Russia strikes gas deal with China", False),
    ],
)
def test_english_strikes_by_whom(title, is_attack):
    tags = {t for m in matched(title, lang="en").values() for t in m.tags}
    assert ("attack" in tags) is is_attack, title
