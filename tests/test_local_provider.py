"""What only the local provider does: approvers and leave types from configuration, everyone a person."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.config import ConfigError, load_provider_config, load_settings
from bot.store import Store
from providers.errors import ProviderError, ProviderNotFound
from providers.local import LocalProvider, parse_approvers
from providers.models import HolidayRequest, Person, Status

ALICE = Person(id="alice@x.com", name="alice", email="alice@x.com", slack_user_id="U0ALICE")


def local(approvers: str = "", **config: str) -> LocalProvider:
    """A local provider with no database: enough for what is read from configuration."""
    return LocalProvider(LocalProvider.Config(approvers=approvers, **config))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean environment with the local provider chosen and no .env file in reach."""
    monkeypatch.chdir(tmp_path)
    for name in ("LEAVEBOT_PROVIDER", "LOCAL_APPROVERS", "LOCAL_LEAVE_TYPES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_text_form_maps_people_to_approvers() -> None:
    """``who=a,b; *=c`` gives each person their approvers and ``*`` the default ones."""
    assert parse_approvers("alice@x.com=bob@x.com, U0BOSS; *=carol@x.com") == {
        "alice@x.com": ["bob@x.com", "U0BOSS"],
        "*": ["carol@x.com"],
    }


def test_json_form_reads_the_same() -> None:
    """A JSON object works too, with a list or a comma-separated string per person."""
    assert parse_approvers('{"alice@x.com": ["bob@x.com", "U0BOSS"], "*": "carol@x.com"}') == {
        "alice@x.com": ["bob@x.com", "U0BOSS"],
        "*": ["carol@x.com"],
    }


@pytest.mark.parametrize("value", ["bob@x.com, U0BOSS", '["bob@x.com", "U0BOSS"]'])
def test_bare_list_is_the_default(value: str) -> None:
    """A list with no ``who=`` (as text or JSON) is everyone's approvers."""
    assert parse_approvers(value) == {"*": ["bob@x.com", "U0BOSS"]}


def test_emails_are_lower_cased() -> None:
    """E-mail addresses are compared lower-case, on both sides of the ``=``."""
    assert parse_approvers("Alice@X.com=Bob@X.COM") == {"alice@x.com": ["bob@x.com"]}
    assert parse_approvers('{"Alice@X.com": ["Bob@X.COM"]}') == {"alice@x.com": ["bob@x.com"]}


def test_blank_entries_are_ignored() -> None:
    """Empty entries and stray separators are skipped; an empty setting means nobody."""
    assert parse_approvers(" ; *=boss@x.com,, ;; ") == {"*": ["boss@x.com"]}
    assert parse_approvers("") == {}


async def test_slack_ids_are_kept_and_become_slack_people() -> None:
    """Slack user ids keep their case and come back as people known by their Slack id."""
    provider = local("U0ALICE=W0BOSS,U0CAROL")
    assert provider.config.approvers == {"U0ALICE": ["W0BOSS", "U0CAROL"]}
    assert await provider.approvers(ALICE) == [
        Person(id="W0BOSS", name="W0BOSS", slack_user_id="W0BOSS"),
        Person(id="U0CAROL", name="U0CAROL", slack_user_id="U0CAROL"),
    ]


async def test_approvers_by_slack_id_win_over_the_default() -> None:
    """A requester listed by Slack id gets their own approvers, not the default ones."""
    provider = local("*=boss@x.com; U0ALICE=carol@x.com")
    assert [a.email for a in await provider.approvers(ALICE)] == ["carol@x.com"]


async def test_approvers_by_email_win_over_the_default_whatever_the_case() -> None:
    """A requester listed by e-mail gets their own approvers, however their address is written."""
    provider = local("*=boss@x.com; ALICE@x.com=carol@x.com")
    shouting = ALICE.model_copy(update={"email": "Alice@X.COM", "slack_user_id": None})
    assert [a.email for a in await provider.approvers(shouting)] == ["carol@x.com"]


async def test_requester_is_never_their_own_approver() -> None:
    """A default approver asking for leave is left out of their own approvers."""
    provider = local("*=alice@x.com,U0ALICE,boss@x.com")
    assert [a.id for a in await provider.approvers(ALICE)] == ["boss@x.com"]


async def test_no_approvers_configured_means_none() -> None:
    """With LOCAL_APPROVERS unset nobody is an approver."""
    assert await local().approvers(ALICE) == []


async def test_leave_types_from_comma_separated_text() -> None:
    """LOCAL_LEAVE_TYPES is a comma-separated list; ids are positions counted from 1."""
    types = await local(leave_types="Holiday, Sick leave,, Training ").leave_types()
    assert [(t.id, t.name) for t in types] == [("1", "Holiday"), ("2", "Sick leave"), ("3", "Training")]


async def test_every_address_is_a_person() -> None:
    """find_person accepts any e-mail address, lower-cased, named by its local part; anything else is not found."""
    assert await local().find_person(" Dana@X.com ") == Person(
        id="dana@x.com", name="dana", email="dana@x.com"
    )
    with pytest.raises(ProviderNotFound):
        await local().find_person("dana")


async def test_bookings_need_the_database() -> None:
    """Without the bot's database the local provider says so instead of failing obscurely."""
    request = HolidayRequest(requester=ALICE, start_date=date(2031, 1, 6), end_date=date(2031, 1, 6))
    with pytest.raises(ProviderError, match="needs the bot's database"):
        await local().submit(request)


async def test_absences_keep_declined_and_cancelled_bookings(store: Store) -> None:
    """absences() reports every booking in the range with its status, decided or not."""
    provider = LocalProvider(engine=store.engine)
    day = date(2031, 1, 6)
    request = HolidayRequest(requester=ALICE, start_date=day, end_date=day)
    declined = (await provider.submit(request)).id
    await provider.decline(declined, "")
    cancelled = (await provider.submit(request)).id  # declined leave is no overlap
    await provider.cancel(cancelled)
    pending = (await provider.submit(request)).id  # nor cancelled leave
    assert [(a.id, a.status) for a in await provider.absences(day, day)] == [
        (declined, Status.DECLINED),
        (cancelled, Status.CANCELLED),
        (pending, Status.PENDING),
    ]


def test_settings_come_from_local_variables(environment: pytest.MonkeyPatch) -> None:
    """LOCAL_APPROVERS and LOCAL_LEAVE_TYPES are read as plain text from the environment."""
    environment.setenv("LOCAL_APPROVERS", "Alice@X.com=U0BOSS; *=boss@x.com")
    environment.setenv("LOCAL_LEAVE_TYPES", "Holiday,Sick")
    config = load_provider_config(load_settings())
    assert isinstance(config, LocalProvider.Config)
    assert config.approvers == {"alice@x.com": ["U0BOSS"], "*": ["boss@x.com"]}
    assert config.leave_types == ["Holiday", "Sick"]


def test_json_approvers_come_from_the_environment(environment: pytest.MonkeyPatch) -> None:
    """LOCAL_APPROVERS may be JSON in the environment too."""
    environment.setenv("LOCAL_APPROVERS", '{"*": ["Boss@X.com"]}')
    config = load_provider_config(load_settings())
    assert isinstance(config, LocalProvider.Config)
    assert config.approvers == {"*": ["boss@x.com"]}


def test_malformed_json_names_the_variable(environment: pytest.MonkeyPatch) -> None:
    """Broken JSON in LOCAL_APPROVERS is one plain ConfigError naming the variable."""
    environment.setenv("LOCAL_APPROVERS", '{"*": [boss@x.com]}')
    with pytest.raises(ConfigError) as raised:
        load_provider_config(load_settings())
    assert str(raised.value).startswith("LOCAL_APPROVERS: is not valid JSON (Expecting value at character 8)")


@pytest.mark.parametrize("value", ['{"*": null}', '{"*": [1, 2]}', '{"*": {"boss@x.com": true}}'])
def test_json_of_the_wrong_shape_names_the_variable(environment: pytest.MonkeyPatch, value: str) -> None:
    """JSON approvers that are not text or a list of text are refused, naming LOCAL_APPROVERS."""
    environment.setenv("LOCAL_APPROVERS", value)
    with pytest.raises(ConfigError, match=r"^LOCAL_APPROVERS: approvers must be e-mail addresses or Slack"):
        load_provider_config(load_settings())


def test_a_typo_in_approvers_is_refused() -> None:
    """An approver that is neither an e-mail nor a Slack id is a typo, refused at start rather than ignored."""
    with pytest.raises(ValueError, match="neither an e-mail address nor a Slack user id"):
        parse_approvers("*=bob.example.com")
