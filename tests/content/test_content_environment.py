"""Loading the templates: the shop's folder first, compiled at startup, errors with file:line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from content_samples import NOW, full_setup

from aftersale_kit.content import (
    ContentRenderer,
    TemplateLoadError,
    TemplateRenderError,
    builtin_templates_dir,
    render_blocks,
    render_email,
)
from aftersale_kit.core.errors import AftersaleKitError

REPO_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
Writer = Callable[[dict[str, str]], Path]


def test_builtin_templates_are_found() -> None:
    folder = builtin_templates_dir()
    assert (folder / "blocks" / "coupon.html.j2").is_file()
    assert (folder / "page" / "thank_you.html.j2").is_file()


def test_a_shop_template_of_the_same_name_wins(write_templates: Writer) -> None:
    # given the shop's own survey block
    own = write_templates(
        {
            "blocks/survey.html.j2": (
                '<p class="own-survey">{{ block.headline }} → {{ block.url }}</p>'
            )
        }
    )
    renderer = ContentRenderer.load(templates_dir=own)
    config, the_order, decision = full_setup()
    # when the blocks are rendered
    blocks = {
        b.block: b
        for b in render_blocks(
            decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
        )
    }
    # then the survey is the shop's, every other block the built-in one
    assert blocks["survey"].html == (
        '<p class="own-survey">Wie war Ihr Einkauf? → https://survey.example.com/s/1</p>'
    )
    assert 'class="ak-block ak-coupon"' in blocks["coupon"].html
    assert renderer.origin("blocks/survey.html.j2") == str(own.resolve() / "blocks/survey.html.j2")
    assert renderer.origin("blocks/coupon.html.j2") == str(
        builtin_templates_dir() / "blocks/coupon.html.j2"
    )


def test_relative_templates_dir_is_resolved_against_the_config_folder(
    write_templates: Writer, tmp_path: Path
) -> None:
    write_templates({"email/fragment.txt.j2": "OWN TEXT {{ order.number }}"})
    config, the_order, decision = full_setup()
    config = replace(
        config,
        settings=replace(config.settings, templates_dir="shop-templates"),
        source=str(tmp_path / "shop.yaml"),
    )
    renderer = ContentRenderer.for_config(config)
    _, text = render_email(
        decision=decision, order=the_order, config=config, now=NOW, renderer=renderer
    )
    assert text == "OWN TEXT #1001\n"


def test_syntax_error_is_reported_at_load_with_file_and_line(write_templates: Writer) -> None:
    # given a shop template whose "if" on line 3 is never closed (reported where it ends)
    own = write_templates(
        {
            "blocks/coupon.html.j2": (
                "<section>\n  {{ block.code }}\n  {% if block.countdown %}\n</section>\n"
            )
        }
    )
    # when the templates are loaded
    with pytest.raises(TemplateLoadError) as excinfo:
        ContentRenderer.load(templates_dir=own)
    # then the error names the file and the line, before any order arrives
    error = excinfo.value
    assert isinstance(error, AftersaleKitError)
    assert error.file == str(own.resolve() / "blocks" / "coupon.html.j2")
    assert error.line == 4
    assert str(error).startswith(f"{error.file}:4: ")
    assert "endif" in str(error)


def test_syntax_error_in_a_new_include_is_found_too(write_templates: Writer) -> None:
    own = write_templates({"partials/footer.html.j2": "ok\n{{ broken( }}\n"})
    with pytest.raises(TemplateLoadError) as excinfo:
        ContentRenderer.load(templates_dir=own)
    assert excinfo.value.file.endswith("partials/footer.html.j2")
    assert excinfo.value.line == 2


def test_missing_templates_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateLoadError, match="the folder does not exist") as excinfo:
        ContentRenderer.load(templates_dir="nowhere", base_dir=tmp_path)
    assert excinfo.value.file == str(tmp_path / "nowhere")


def test_template_that_fails_at_render_names_file_and_line(write_templates: Writer) -> None:
    # given an override that uses a variable which does not exist (StrictUndefined)
    own = write_templates(
        {"blocks/survey.html.j2": "<p>\n{{ block.headline }}\n{{ block.no_such_field }}\n</p>\n"}
    )
    renderer = ContentRenderer.load(templates_dir=own)
    config, the_order, decision = full_setup()
    with pytest.raises(TemplateRenderError) as excinfo:
        render_blocks(decision=decision, order=the_order, config=config, now=NOW, renderer=renderer)
    assert excinfo.value.file == str(own.resolve() / "blocks" / "survey.html.j2")
    assert excinfo.value.line == 3
    assert "no_such_field" in str(excinfo.value)


def test_the_sandbox_refuses_unsafe_attributes(write_templates: Writer) -> None:
    own = write_templates({"blocks/survey.html.j2": "{{ block.__class__.__mro__ }}"})
    renderer = ContentRenderer.load(templates_dir=own)
    config, the_order, decision = full_setup()
    with pytest.raises(TemplateRenderError):
        render_blocks(decision=decision, order=the_order, config=config, now=NOW, renderer=renderer)


def test_every_builtin_template_compiles_and_none_is_missing() -> None:
    # The built-in folder alone loads: every block, the e-mail parts, the page and its stylesheet.
    renderer = ContentRenderer.load()
    assert renderer.search_path == (builtin_templates_dir(),)


def test_texts_do_not_collide_with_dict_methods(write_templates: Writer) -> None:
    # ``t`` is not a dict: ``t.copy_code`` and the like are texts, an unknown name is an error.
    own = write_templates({"blocks/survey.html.j2": "{{ t.copy_code }}|{{ t.items }}"})
    renderer = ContentRenderer.load(templates_dir=own)
    config, the_order, decision = full_setup()
    with pytest.raises(TemplateRenderError, match="items"):
        render_blocks(decision=decision, order=the_order, config=config, now=NOW, renderer=renderer)


def test_shops_with_the_same_template_files_share_one_compiled_renderer(
    write_templates: Writer, tmp_path: Path
) -> None:
    own = write_templates({"blocks/survey.html.j2": "<p>eins {{ block.url }}</p>"})
    first = ContentRenderer.load(templates_dir=own)
    assert ContentRenderer.load(templates_dir=own) is first
    assert ContentRenderer.load() is ContentRenderer.load()
    assert ContentRenderer.load() is not first
    # a changed file: loaded again, it is compiled anew; the renderer in use keeps its own
    (own / "blocks" / "survey.html.j2").write_text("<p>zwei {{ block.url }}</p>", "utf-8")
    second = ContentRenderer.load(templates_dir=own)
    assert second is not first
    url = {"block": {"url": "u"}}
    assert second.render("blocks/survey.html.j2", url) == "<p>zwei u</p>"
    assert first.render("blocks/survey.html.j2", url) == "<p>eins u</p>"
    # a broken file is not shared: every load reports it
    (own / "blocks" / "survey.html.j2").write_text("{% if %}", "utf-8")
    for _ in range(2):
        with pytest.raises(TemplateLoadError):
            ContentRenderer.load(templates_dir=own)
