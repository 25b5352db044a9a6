"""Korean names and descriptions for every slash command, through discord.py's ``Translator``.

Discord shows them to users whose client is set to Korean; everyone else sees English.
A test checks that every command, parameter and choice has a Korean text here, so a
new command cannot ship untranslated.
"""

from __future__ import annotations

from discord import Locale, app_commands
from discord.app_commands import TranslationContextLocation as Where

NAMES = {
    "add": "추가",
    "aliases": "별칭",
    "ask": "질문",
    "channel": "채널",
    "claim": "주장",
    "confirm": "확인",
    "date": "날짜",
    "feed": "피드",
    "kind": "종류",
    "language": "언어",
    "list": "목록",
    "min_confidence": "최소신뢰도",
    "name": "이름",
    "manage-feeds": "피드관리",
    "manage-people": "인물관리",
    "manage-stances": "입장관리",
    "person": "인물",
    "position_id": "입장id",
    "private": "비공개",
    "question": "질문",
    "receive": "받을것",
    "remove": "삭제",
    "resume": "재개",
    "review": "검토",
    "review-channel": "검토채널",
    "server": "서버",
    "show": "보기",
    "source_url": "출처",
    "stance": "입장",
    "status": "상태",
    "subscribe": "구독",
    "subscription": "구독",
    "subscriptions": "구독목록",
    "target": "대상",
    "unsubscribe": "구독취소",
    "url": "주소",
    "sides": "양측",
    "text": "내용",
    "keywords": "키워드",
    "supports": "찬성측",
    "opposes": "반대측",
    "supports_ko": "찬성측한국어",
    "opposes_ko": "반대측한국어",
    "learning": "학습",
    "action": "동작",
    "include": "포함",
    "exclude": "제외",
    "digest_hour": "요약시각",
    "timezone": "시간대",
}

DESCRIPTIONS = {
    "Add, remove and resume watched feeds": "구독 피드를 추가, 삭제, 재개합니다",
    "Store, confirm and remove positions": "입장을 저장, 확정, 삭제합니다",
    "A person's stances, clashes and timeline.": "인물의 입장, 충돌, 타임라인을 보여 줍니다.",
    "Choose whom to track, and by which names": "추적할 인물과 그 이름을 정합니다",
    "Tracked people's records": "추적 중인 인물의 기록",
    "Add names a tracked person is known by.": "추적 중인 인물의 다른 이름을 추가합니다.",
    "A person or question id (autocompletes), or a feed URL; empty for everything": (
        "인물 또는 질문 id(자동 완성), 또는 피드 주소. 비우면 전체"
    ),
    "A tracked person (autocompletes)": "추적 중인 인물(자동 완성)",
    "A watched feed (autocompletes)": "구독 중인 피드(자동 완성)",
    "Ask what a person has said or done about AI policy.": "어떤 인물이 AI 정책에 대해 무엇을 말하고 했는지 묻습니다.",
    "Clash alerts, article summaries, or both": "입장 충돌 알림, 기사 요약, 또는 둘 다",
    "Confirm a position the bot proposed from an article.": "봇이 기사에서 제안한 입장을 확정합니다.",
    "Each feed's last fetch, last error, next poll and state.": (
        "피드별 마지막 수집, 마지막 오류, 다음 수집, 상태를 보여 줍니다."
    ),
    "For, against or mixed": "찬성, 반대 또는 혼합",
    "Language of summaries (default: the server's)": "요약 언어(기본값: 서버 언어)",
    "List a person's stored positions.": "인물의 저장된 입장을 나열합니다.",
    "List the whole server's subscriptions": "서버 전체의 구독을 나열합니다",
    "List this channel's (or the server's) subscriptions.": "이 채널(또는 서버)의 구독을 나열합니다.",
    "List watched feeds with their state.": "구독 중인 피드와 상태를 나열합니다.",
    "Names separated by commas": "쉼표로 구분한 이름",
    "One of this channel's subscriptions (autocompletes)": "이 채널의 구독 중 하나(자동 완성)",
    "Only alerts at or above this confidence (0-1)": "이 신뢰도 이상의 알림만(0-1)",
    "Only you see the answer": "답변을 나만 봅니다",
    "Other names, in any language, separated by commas": "다른 이름(어떤 언어든), 쉼표로 구분",
    "Receive clash alerts or summaries in a channel.": "채널에서 입장 충돌 알림이나 요약을 받습니다.",
    "Remove a stored or proposed position by id.": "저장되었거나 제안된 입장을 id로 삭제합니다.",
    "Resume a feed that was paused after repeated failures.": "반복된 실패로 멈춘 피드를 다시 시작합니다.",
    "Show the model, device, queue and feeds.": "모델, 장치, 대기열, 피드 상태를 보여 줍니다.",
    "Stop one of this channel's subscriptions.": "이 채널의 구독 하나를 중지합니다.",
    "Stop watching a feed.": "피드 구독을 중지합니다.",
    "Store a position a person took.": "인물이 취한 입장을 저장합니다.",
    "Stored positions of tracked people": "추적 중인 인물의 저장된 입장",
    "The feed's address (http or https)": "피드 주소(http 또는 https)",
    "The person's full name": "인물의 전체 이름",
    "The position in one sentence": "한 문장으로 쓴 입장",
    "The position's id, as /stance list shows it": "/입장 목록에 표시되는 입장 id",
    "The question it answers (autocompletes)": "이 입장이 답하는 질문(자동 완성)",
    "Track a person, with aliases separated by commas.": "인물을 추적합니다. 별칭은 쉼표로 구분합니다.",
    "Watch an RSS, Atom or JSON feed.": "RSS, Atom 또는 JSON 피드를 구독합니다.",
    "Watched news feeds": "구독 중인 뉴스 피드",
    "What to follow: everything, a person, a question or a feed": "무엇을 따를지: 전체, 인물, 질문 또는 피드",
    "Where it was said or done": "말하거나 행한 곳의 출처",
    "Where to post (default: here); in a forum, a post per alert and one a day for summaries": (
        "게시할 채널(기본값: 여기). 포럼에는 알림마다 게시물 하나, 요약은 하루에 게시물 하나"
    ),
    "Set where alerts that need review wait.": "검토가 필요한 알림이 기다릴 채널을 정합니다.",
    "The review channel; empty to stop holding alerts": "검토 채널. 비우면 알림을 보류하지 않습니다",
    "required: clash alerts wait in the review channel until a moderator confirms them": (
        "필수: 입장 충돌 알림이 운영자가 확인할 때까지 검토 채널에서 기다립니다"
    ),
    "YYYY-MM-DD, YYYY-MM or YYYY": "YYYY-MM-DD, YYYY-MM 또는 YYYY",
    "Your question, in English or Korean": "질문(영어 또는 한국어)",
    "the proposed position's id": "제안된 입장의 id",
    "which way the position goes": "입장의 방향",
    "Add a question of your own; the model drafts its two sides.": (
        "직접 질문을 추가합니다. 모델이 양쪽 입장 설명의 초안을 씁니다."
    ),
    "The question, answered yes or no (e.g. Should AI chips be export-controlled?)": (
        "예/아니오로 답하는 질문 (예: AI 칩 수출을 통제해야 하는가?)"
    ),
    "Words that mark a statement as about it, comma-separated (optional)": (
        "발언이 이 질문에 관한 것임을 알려 주는 단어, 쉼표로 구분 (선택)"
    ),
    "Show, confirm or edit the two sides the judge reads for a question.": (
        "판정에 쓰이는 질문의 양쪽 입장 설명을 보거나 확정하거나 고칩니다."
    ),
    "The question (autocompletes)": "질문 (자동 완성)",
    "Confirm the model's draft as it stands": "모델의 초안을 그대로 확정",
    "What a person says or does for a yes answer (replaces the draft's)": (
        "'예' 쪽에 서는 사람이 하는 말이나 행동 (초안을 대체)"
    ),
    "What a person says or does for a no answer (replaces the draft's)": (
        "'아니오' 쪽에 서는 사람이 하는 말이나 행동 (초안을 대체)"
    ),
    "The same in Korean": "같은 내용을 한국어로",
    "Show or reset what this server's judge learned from reviews.": (
        "이 서버의 판정이 검토에서 배운 것을 보거나 초기화합니다."
    ),
    "show, or reset to the shipped judge (reviews stay exportable)": (
        "보기, 또는 기본 판정으로 초기화 (검토 기록은 내보낼 수 있게 남음)"
    ),
    "Only what mentions one of these words or phrases, comma-separated (e.g. ai act, 인공지능)": (
        "이 단어나 구절 중 하나가 나오는 것만 (쉼표로 구분, 예: ai act, 인공지능)"
    ),
    "Never what mentions one of these, comma-separated (e.g. rumour)": (
        "이 중 하나라도 나오면 받지 않음 (쉼표로 구분, 예: 루머)"
    ),
    "With receive digest: the local hour it is posted (0-23, default 8)": (
        "일일 요약을 받을 때: 게시할 현지 시각 (0-23, 기본 8)"
    ),
    "With receive digest: a time zone such as Asia/Seoul (default: the language's)": (
        "일일 요약을 받을 때: Asia/Seoul 같은 시간대 (기본: 언어에 따라)"
    ),
}

CHOICES = {
    "against": "반대",
    "all": "전체",
    "both": "둘 다",
    "clashes": "충돌 알림",
    "en": "영어",
    "favor": "찬성",
    "feed": "피드",
    "ko": "한국어",
    "mixed": "혼합",
    "none": "없음",
    "required": "필수",
    "person": "인물",
    "question": "질문",
    "summaries": "요약",
    "reset": "초기화",
    "show": "보기",
    "digest": "일일요약",
}

_TABLES = {
    Where.command_name: NAMES,
    Where.group_name: NAMES,
    Where.parameter_name: NAMES,
    Where.command_description: DESCRIPTIONS,
    Where.group_description: DESCRIPTIONS,
    Where.parameter_description: DESCRIPTIONS,
    Where.choice_name: CHOICES,
}


class KoreanTranslator(app_commands.Translator):
    async def translate(
        self, string: app_commands.locale_str, locale: Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        if locale is not Locale.korean:
            return None
        return _TABLES.get(context.location, {}).get(string.message)
