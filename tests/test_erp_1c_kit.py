"""The 1C extension in integrations/1c: it cannot run here, so CI parses every BSL module with
tree-sitter-bsl, checks the XML dump, and holds our signer to the same known-answer vectors
the extension's self-test reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_bsl

from bot.core.config import WebhookConfig
from bot.pipeline.webhook_auth import authenticate_events, sign, signature_problem
from tests.erp_fixtures import KIT, VECTORS

MD = "{http://v8.1c.ru/8.3/MDClasses}"
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bsl.language()))


def syntax_problems(source: bytes) -> list[str]:
    tree = PARSER.parse(source)
    found: list[str] = []

    def walk(node: tree_sitter.Node) -> None:
        if node.is_error or node.is_missing:
            row, column = node.start_point
            found.append(
                f"{row + 1}:{column + 1}: {'missing' if node.is_missing else 'error'} "
                f"{source[node.start_byte : node.end_byte][:60].decode(errors='replace')!r}"
            )
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return found


def bsl_files() -> list[Path]:
    return sorted(KIT.rglob("*.bsl"))


def vectors() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def test_the_kit_has_its_modules():
    names = {path.parent.parent.name for path in bsl_files()}
    assert {
        "вн_ВестникПодпись",
        "вн_ВестникОчередь",
        "вн_ВестникСобытия",
        "вн_ВестникОтправка",
        "вн_ВестникСамопроверка",
        "вн_ВестникВызовСервера",
    } <= names


@pytest.mark.parametrize("path", bsl_files(), ids=lambda p: str(p.relative_to(KIT)))
def test_every_bsl_module_parses(path: Path):
    assert syntax_problems(path.read_bytes()) == [], path


def test_the_parse_check_catches_a_broken_module():
    broken = "Процедура А()\n\tЕсли Истина Тогда\n\t\tБ = 1;\nКонецПроцедуры\n".encode()
    assert syntax_problems(broken)
    good = "Процедура А()\n\tЕсли Истина Тогда\n\t\tБ = 1;\n\tКонецЕсли;\nКонецПроцедуры\n"
    assert syntax_problems(good.encode()) == []


def test_every_xml_file_is_well_formed_and_listed():
    files = sorted(KIT.rglob("*.xml"))
    for path in files:
        ET.parse(path)  # raises on anything not well-formed
    root = ET.parse(KIT / "Configuration.xml").getroot()
    listed = [
        (child.tag.removeprefix(MD), child.text)
        for child in root.find(f"{MD}Configuration/{MD}ChildObjects")
    ]
    folders = {
        "Language": "Languages",
        "CommonModule": "CommonModules",
        "CommonTemplate": "CommonTemplates",
        "CommonCommand": "CommonCommands",
        "EventSubscription": "EventSubscriptions",
        "ScheduledJob": "ScheduledJobs",
        "Constant": "Constants",
        "InformationRegister": "InformationRegisters",
    }
    for kind, name in listed:
        description = KIT / folders[kind] / f"{name}.xml"
        assert description.exists(), description
        element = ET.parse(description).getroot()[0]
        assert element.tag == MD + kind
        assert element.find(f"{MD}Properties/{MD}Name").text == name
    described = {p for p in files if p.parent.name in folders.values()}
    assert described == {KIT / folders[k] / f"{n}.xml" for k, n in listed}


def test_subscriptions_and_the_job_name_procedures_that_exist():
    for path in [
        *(KIT / "EventSubscriptions").glob("*.xml"),
        *(KIT / "ScheduledJobs").glob("*.xml"),
    ]:
        props = ET.parse(path).getroot()[0].find(f"{MD}Properties")
        target = (
            props.find(f"{MD}Handler")
            if props.find(f"{MD}Handler") is not None
            else props.find(f"{MD}MethodName")
        ).text
        _, module, procedure = target.split(".")
        source = (KIT / "CommonModules" / module / "Ext" / "Module.bsl").read_text("utf-8")
        assert re.search(rf"^Процедура {procedure}\(.*\) Экспорт$", source, re.M), target


def test_the_outbox_register_has_the_columns_the_modules_use():
    register = ET.parse(KIT / "InformationRegisters" / "вн_ОчередьСобытий.xml").getroot()[0]
    columns = {e.find(f"{MD}Properties/{MD}Name").text for e in register.find(f"{MD}ChildObjects")}
    source = (KIT / "CommonModules" / "вн_ВестникОчередь" / "Ext" / "Module.bsl").read_text()
    used = set(re.findall(r"Запись\.(\w+) =", source))
    assert used <= columns and "ИдСобытия" in columns


def test_the_self_test_reads_the_shared_vectors_template():
    source = (KIT / "CommonModules" / "вн_ВестникСамопроверка" / "Ext" / "Module.bsl").read_text()
    assert 'ПолучитьОбщийМакет("вн_ВестникВекторы")' in source
    assert VECTORS.parent.parent.name == "вн_ВестникВекторы"
    template = ET.parse(KIT / "CommonTemplates" / "вн_ВестникВекторы.xml").getroot()[0]
    assert template.find(f"{MD}Properties/{MD}TemplateType").text == "BinaryData"


@pytest.mark.parametrize("vector", vectors()["standard_webhooks"], ids=lambda v: v["name"])
def test_our_signer_and_verifier_meet_the_standard_webhooks_vectors(vector):
    key = base64.b64decode(vector["secret"].removeprefix("whsec_"))
    body = vector["body"].encode("utf-8")
    assert sign(key, vector["id"], vector["timestamp"], body) == vector["signature"]
    headers = {
        "webhook-id": vector["id"],
        "webhook-timestamp": str(vector["timestamp"]),
        "webhook-signature": f"v1,b2xkLXNpZ25hdHVyZQ== {vector['signature']}",
    }
    assert signature_problem(headers, body, key, vector["timestamp"], 300) is None
    config = WebhookConfig(secret=vector["secret"])
    assert authenticate_events(config, headers, body, vector["timestamp"] + 299) is None
    assert authenticate_events(config, headers, body + b" ", vector["timestamp"]) is not None
    for variant, wrong in vector.get("wrong", {}).items():
        raw = b"\xef\xbb\xbf" + body if variant == "utf8_bom" else vector["body"].encode("cp1251")
        assert sign(key, vector["id"], vector["timestamp"], raw) == wrong != vector["signature"]
        problem = signature_problem(
            {**headers, "webhook-signature": wrong}, body, key, vector["timestamp"], 300
        )
        assert problem is not None and problem.code == "signature_mismatch"


@pytest.mark.parametrize("vector", vectors()["hmac_sha256"], ids=lambda v: v["name"])
def test_hmac_vectors(vector):
    digest = hmac.new(vector["key"].encode(), vector["data"].encode(), hashlib.sha256)
    assert digest.hexdigest() == vector["hex"]
