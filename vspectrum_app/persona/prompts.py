"""The paper's persona prompts (Figures 13 and 14), verbatim by default.

Templates use ``{traits}`` for the numbered persona statements and ``{max_trait}`` for their
count; users may edit copies, and a session records the exact text it sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vspectrum_app.core.templates import TemplateError, check_template, fill
from vspectrum_app.persona.personas import Persona

SIMPLE_TEMPLATE = (
    "You are a person who contains certain traits, several statements best describe you as your introduction:\n"
    "{traits}\n"
    "Your goal is to determine whether you are interested in the content of the given picture. "
    "Give me only a structured answer: {{'decision': 'yes or no', 'reason': 'reason', "
    "'trait_num': '1-{max_trait}, the personality trait that this picture alludes to, NA if none'}}"
)
SIMPLE_TRAIT_FORMAT = "{n}. {statement}"

ISQ_TEMPLATE = (
    "You are a person with these personalities:\n"
    "{traits}\n"
    "You are scrolling through short videos and come across this picture.\n"
    "Please answer the following questions as this person with the above persona:\n"
    "1. On a scale of 1 to 10, how visually appealing is the screenshot to you based on your personality?\n"
    "2. Based on the screenshot, does this video seem like something you would typically watch, or is it outside your usual preferences?\n"
    "3. On a scale of 1 to 10, how strong does this screenshot stimulate your curiosity about the video's content?\n"
    "4. On a scale of 1 to 10, how strongly does this screenshot make you feel emotionally connected or engaged with the content?\n"
    "5. Does this screenshot make you want to click and start watching the video immediately?\n"
    "6. On a scale of 1 to 10, how likely do you think this video will provide valuable information or entertainment to you?\n"
    "7. Which of your personalities does this screenshot most appeal to?\n"
    "Please answer the questions and give your answer to all of these question in the following form through "
    "replacing the righthand side, please answer in this format\n"
    "{{\n"
    "'visual_appeal': 'Give me your answer to the first question, it should be a number between 1 to 10',\n"
    "'preference_alignment': 'Give me your answer to the second question, it should be yes or no',\n"
    "'curiosity_stimulation': 'Give me your answer to the third question, it should be a number between 1 to 10',\n"
    "'emotional_engagement': 'Give me your answer to the fourth question, it should be a number between 1 to 10',\n"
    "'action_desire': 'Give me your answer to the fifth question, it should be yes or no',\n"
    "'value_expectation': 'Give me your answer to the sixth question, it should be a number between 1 to 10',\n"
    "'trait_num': 'Give me your answer to the last question, it should be a number between 1 to {max_trait} "
    "corresponding to the matching persona index, NA if none'\n"
    "}}"
)
ISQ_TRAIT_FORMAT = "{n}: {statement},"

STRATEGIES = ("simple", "isq")
FIELDS = ("traits", "max_trait")  # the only fields a persona template may use


@dataclass(frozen=True)
class PromptTemplates:
    simple: str = SIMPLE_TEMPLATE
    isq: str = ISQ_TEMPLATE

    def render(self, strategy: str, persona: Persona) -> str:
        if strategy == "simple":
            template, trait_format = self.simple, SIMPLE_TRAIT_FORMAT
        elif strategy == "isq":
            template, trait_format = self.isq, ISQ_TRAIT_FORMAT
        else:
            raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
        traits = "\n".join(trait_format.format(n=n, statement=s) for n, s in enumerate(persona.statements, 1))
        try:
            return fill(template, FIELDS, ("traits",), traits=traits, max_trait=len(persona.statements))
        except TemplateError as exc:
            raise PromptError(str(exc)) from None


class PromptError(Exception):
    pass


def load_template(path: Path) -> str:
    """An edited prompt from a file, checked (fields, size) before anything is recorded."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"cannot read the prompt file {path}: {exc}") from None
    try:
        return check_template(text, FIELDS, ("traits",))
    except TemplateError as exc:
        raise PromptError(f"{Path(path).name}: {exc}") from None
