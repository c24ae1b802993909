"""HTML page furniture: each removal rule on a small page, what must be kept, XHTML without warnings.

The generator-specific pages, with labelled content and furniture, are in tests/fixtures/html
(scored by eval.readers and tests/eval/test_reader_eval.py); here each rule is shown on its own.
"""

from __future__ import annotations

import warnings

import pytest

from ingest.readers import read_document
from ingest.readers.html import read_html

TEXT = "Le levain se nourrit deux fois par jour avec de la farine de seigle et de l'eau tiède."


def read(page: str):
    return read_html(page.encode("utf-8"))


def page(*parts: str) -> str:
    return "<html><head><title>T</title></head><body>" + "".join(parts) + "</body></html>"


def assert_offsets(extracted) -> None:
    for h in extracted.headings:
        assert extracted.text[h.offset :].startswith(h.title)


@pytest.mark.parametrize(
    "furniture",
    [
        # DocBook: the chapter's table of contents, navigation header and footer.
        '<div class="toc"><p><strong>Table des matières</strong></p><dl class="toc"><dt><span class="section">'
        '<a href="#a">1.1. Une question ?</a></span></dt></dl></div>',
        '<div class="navheader"><table><tr><th colspan="3">Chapitre 1. Bases</th></tr></table></div>',
        '<div class="navfooter"><table><tr><td>Chapitre 0. Avant</td><td>Chapitre 2. Après</td></tr></table></div>',
        '<div class="list-of-tables"><p><b>Liste des tableaux</b></p><dl><dt>1.1. Tarifs</dt></dl></div>',
        # publican: the ebook banner and the previous/next list.
        '<div id="banner"><a href="/get/"><span class="text">Download the ebook</span></a></div>',
        '<ul class="docnav top"><li class="previous"><a accesskey="p" href="a.html"><strong>Précédent</strong></a>'
        '</li><li class="home">Le guide</li></ul>',
        # Sphinx: sidebar and the related-pages bar.
        '<div class="sphinxsidebar" role="note"><h3>Sujet précédent</h3><p>Installation</p></div>',
        '<div class="related"><h3>Navigation</h3><ul><li>index</li><li>suivant |</li></ul></div>',
        '<div class="footer">© Copyright 2024. Créé en utilisant Sphinx.</div>',
        # MkDocs (Material) and Docusaurus, with a CSS-module class name.
        '<div class="md-sidebar md-sidebar--secondary"><label class="md-nav__title">Table des matières</label></div>',
        '<div class="navbar fixed-top navbar-expand-lg"><a class="navbar-brand" href="..">Cartel</a></div>',
        '<div class="tableOfContents_bqdL thin-scrollbar theme-doc-toc-desktop"><ul><li>Sauvegarde</li></ul></div>',
        '<div role="region"><a class="skipToContent_fXgn" href="#x">Aller au contenu principal</a></div>',
        '<div class="theme-doc-footer"><a class="theme-edit-this-page">Modifier cette page</a></div>',
        # Breadcrumbs, whatever the generator.
        '<div class="breadcrumbs"><a href="/">Accueil</a> » <a href="/posts/">Articles</a></div>',
        '<ol class="breadcrumb"><li>Accueil</li><li>Guides</li></ol>',
        # MediaWiki.
        '<div id="toc" class="toc"><div class="toctitle"><h2>Sommaire</h2></div><ul><li>1 Histoire</li></ul></div>',
        '<div id="siteSub">Un article du wiki.</div><a class="mw-jump-link" href="#mw-head">Aller à la navigation</a>',
        '<div id="catlinks" class="catlinks">Catégories : Moulin à eau</div>',
        '<div class="printfooter">Ce document provient de « https://wiki.example.org/Moulin ».</div>',
        # WordPress: skip link, share buttons, related posts, widgets, cookie notice.
        '<a class="skip-link screen-reader-text" href="#content">Aller au contenu</a>',
        '<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Partager :</h3><span>Facebook</span></div>',
        '<div id="jp-relatedposts" class="jp-relatedposts"><h3>Articles similaires</h3></div>',
        '<div class="widget-area"><section class="widget"><h2>Archives</h2><p>mars 2024</p></section></div>',
        '<div id="cookie-law-info-bar"><span>Ce site utilise des cookies. Accepter</span></div>',
        # Hugo (PaperMod): previous/next and share buttons.
        '<div class="paginav"><span class="title">« Page précédente</span><span>Régler les freins</span></div>',
        # ARIA roles.
        '<div role="navigation"><p>Menu du site</p></div>',
        '<div role="banner"><p>Le Potager de Lucie</p></div>',
        '<div role="contentinfo"><p>Fièrement propulsé par un moteur de blog</p></div>',
        '<div role="complementary"><p>À lire aussi</p></div>',
    ],
)
def test_named_furniture_is_dropped(furniture):
    extracted = read(page(furniture, f"<h1>Le levain</h1><p>{TEXT}</p>", furniture))
    assert extracted.text == f"Le levain\n\n{TEXT}"
    assert [(h.offset, h.level, h.title) for h in extracted.headings] == [(0, 1, "Le levain")]


@pytest.mark.parametrize(
    "anchor",
    [
        '<a class="headerlink" href="#levain" title="Lien vers cette rubrique">¶</a>',
        '<a href="#levain" class="hash-link" aria-label="Lien direct">\u200b</a>',
        '<span class="mw-editsection"><span class="mw-editsection-bracket">[</span><a href="?action=edit">modifier'
        '</a><span class="mw-editsection-bracket">]</span></span>',
    ],
)
def test_anchors_inside_headings_leave_the_title_clean(anchor):
    extracted = read(page(f"<h1>Titre</h1><p>{TEXT}</p><h2>Le levain{anchor}</h2><p>{TEXT}</p>"))
    assert [h.title for h in extracted.headings] == ["Titre", "Le levain"]
    assert "¶" not in extracted.text and "modifier" not in extracted.text
    assert_offsets(extracted)


def test_docbook_chapter_keeps_sections_and_drops_contents_and_navigation():
    chapter = page(
        '<div class="navheader"><table><tr><th>Chapitre 10. Le four</th></tr><tr><td><a accesskey="p" '
        'href="a.html"><img alt="Précédent" src="prev.png"/></a></td></tr></table><hr/></div>',
        '<div class="chapter"><div class="titlepage"><div><div><h1 class="title">Chapitre 10. Le four</h1>'
        '</div></div></div><div class="toc"><p><strong>Table des matières</strong></p><dl class="toc"><dt>'
        '<span class="section"><a href="#a">10.1. Puis-je cuire sans vapeur ?</a></span></dt></dl></div>',
        '<div class="section"><div class="titlepage"><div><div><h2 class="title">10.1. Puis-je cuire sans vapeur ?'
        "</h2></div></div></div><p>Oui.</p></div></div>",
        '<div class="navfooter"><hr/><table><tr><td>Chapitre 9. Le pétrissage </td><td><a accesskey="h" '
        'href="index.html">Sommaire</a></td><td> Chapitre 11. La cuisson</td></tr></table></div>',
    )
    extracted = read(chapter)
    assert extracted.text == "Chapitre 10. Le four\n\n10.1. Puis-je cuire sans vapeur ?\n\nOui."
    assert [(h.level, h.title) for h in extracted.headings] == [
        (1, "Chapitre 10. Le four"),
        (2, "10.1. Puis-je cuire sans vapeur ?"),
    ]
    assert_offsets(extracted)


def test_docbook_and_rest_sidebars_are_content():
    # In DocBook and reST a "sidebar" is a boxed note of the text, not the site's sidebar.
    box = '<div class="sidebar"><p class="title"><strong>EN PRATIQUE</strong></p><p>Un poste isolé dérive.</p></div>'
    extracted = read(page(f"<h1>Horloge</h1><p>{TEXT}</p>", box))
    assert "EN PRATIQUE" in extracted.text and "Un poste isolé dérive." in extracted.text


def test_a_block_of_links_only_is_dropped():
    menu = '<div class="menu-principal"><a href="/">Accueil</a> <a href="/pains">Nos pains</a> <a href="/c">Contact</a></div>'
    extracted = read(page(menu, f"<h1>Le levain</h1><p>{TEXT}</p>"))
    assert extracted.text == f"Le levain\n\n{TEXT}"


def test_links_within_text_are_kept():
    prose = (
        '<p>Voir <a href="/a">la page des farines</a>, <a href="/b">le calendrier</a> et <a href="/c">les tarifs</a>'
        " avant de réserver une place à l'atelier du samedi matin, qui commence à neuf heures précises.</p>"
    )
    described = (
        '<ul><li><a href="/a">Farines</a> : blé, seigle et épeautre moulus sur meule de pierre au moulin voisin.</li>'
        '<li><a href="/b">Levains</a> : comment les nourrir, les garder au frais et les réveiller.</li>'
        '<li><a href="/c">Fours</a> : la cuisson au bois, à sole, et les températures à viser.</li></ul>'
    )
    extracted = read(page(f"<h1>Le levain</h1>{prose}{described}"))
    assert "la page des farines" in extracted.text and "avant de réserver" in extracted.text
    assert "Levains : comment les nourrir" in extracted.text


def test_a_wrapper_with_a_furniture_name_holding_the_page_is_kept():
    wrapped = f'<div class="footer"><h1>Le levain</h1><p>{TEXT}</p><p>{TEXT}</p></div><div class="footer">Pied</div>'
    extracted = read(page(wrapped))
    assert extracted.text == f"Le levain\n\n{TEXT}\n\n{TEXT}"


def test_a_page_that_is_only_a_table_of_contents_is_still_read():
    contents = '<div class="toc"><p>Table des matières</p><ul><li><a href="a.html">1. Les pains</a></li></ul></div>'
    extracted = read(page(contents))
    assert "1. Les pains" in extracted.text


def test_hidden_anchor_and_main_are_as_before():
    hugo = page(
        '<header class="header"><nav><a href="/">Atelier Rayon</a></nav></header><main class="main">',
        '<article class="post-single"><header class="post-header"><h1 class="post-title">Chambre à air</h1></header>',
        f'<div class="post-content"><h2 id="f">Fuite<a hidden class="anchor" href="#f">#</a></h2><p>{TEXT}</p></div>',
        "</article></main>",
    )
    extracted = read(hugo)
    assert extracted.text == f"Chambre à air\n\nFuite\n\n{TEXT}"
    assert [h.title for h in extracted.headings] == ["Chambre à air", "Fuite"]


XHTML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
    '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" '
    'content="text/html; charset=UTF-8" /><title>Chapitre 1</title></head><body>'
    f'<div class="chapter"><h1 class="title">Chapitre 1</h1><p>{TEXT}</p></div></body></html>'
)


def test_xhtml_is_read_without_any_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        extracted = read(XHTML)
    assert [str(w.message)[:80] for w in caught] == []
    assert extracted.text == f"Chapitre 1\n\n{TEXT}"


def test_xhtml_file_through_read_document_prints_no_warning(tmp_path, recwarn):
    path = tmp_path / "chapitre.fr.html"
    path.write_text(XHTML, encoding="utf-8")
    doc = read_document(path, tmp_path)
    assert doc.format == "html" and TEXT in doc.text
    assert len(recwarn) == 0


def test_the_warning_filter_does_not_leak():
    read(XHTML)
    assert not any("XMLParsedAsHTML" in str(f[2]) for f in warnings.filters if f[2] is not None)
