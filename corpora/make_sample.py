"""Generate the sample corpus's PDF and DOCX from the plain-text sources below.

The .md, .html and .txt samples are written by hand; this script only produces the
binary formats, so their content can be reviewed and edited as text here. Outputs are
reproducible: re-running it yields byte-identical files (fixed dates, reportlab's
invariant mode, fixed zip timestamps), so document ids do not change for nothing.

Needs reportlab and python-docx:  python corpora/make_sample.py [output-folder]
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
PDF_NAME = "rapport-annuel-2023.pdf"
DOCX_NAME = "charte-hygiene-allergenes.docx"
FIXED_DATE = datetime(2024, 2, 1, 9, 0, 0)
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)

# One entry per PDF page: (page title, paragraphs). Each page carries its own facts so
# that page citations can be checked.
REPORT_TITLE = "Le Fournil des Coteaux - Rapport annuel 2023"
REPORT_PAGES: list[tuple[str, list[str]]] = [
    (
        "1. L'année 2023 en bref",
        [
            "Ce rapport est présenté aux associés lors de l'assemblée générale du samedi 29 juin "
            "2024. Il rend compte de l'activité de la coopérative du 1er janvier au 31 décembre 2023.",
            "Le chiffre d'affaires de l'exercice atteint 1 184 000 euros, contre 1 108 000 euros en "
            "2022, soit une progression de 6,9 %. Cette hausse tient pour moitié à l'augmentation des "
            "prix décidée en février, de 4 % en moyenne, et pour moitié à la croissance des volumes "
            "vendus aux restaurants et aux cantines scolaires.",
            "La boutique de la rue des Tilleuls réalise 58 % des ventes. Les marchés du samedi, à "
            "Lasbordes et à Montesquieu-la-Garde, en représentent 17 %. Les clients professionnels "
            "(sept restaurants, deux cantines scolaires et la maison de retraite Les Glycines) "
            "comptent pour les 25 % restants.",
            "Le résultat net s'élève à 52 300 euros, en baisse de 8 % par rapport à 2022, en raison "
            "de la hausse du prix du beurre et de l'amortissement du nouveau four. Conformément aux "
            "statuts, 23 535 euros sont mis en réserve, 20 920 euros sont versés en participation "
            "aux salariés et 7 845 euros rémunèrent les parts sociales des associés.",
            "La boutique a été ouverte 299 jours dans l'année. Elle est restée fermée les lundis, "
            "pendant les congés d'août et deux jours en novembre, pour l'installation de la nouvelle "
            "chambre de pousse.",
        ],
    ),
    (
        "2. Production et approvisionnement",
        [
            "En 2023, le fournil a transformé 148 tonnes de farine, dont 112 tonnes de blé, "
            "21 tonnes de seigle et 15 tonnes d'épeautre. La production moyenne s'établit à 1 650 "
            "pains par jour d'ouverture, avec un pic de 2 400 pains le samedi précédant Pâques.",
            "La baguette de tradition reste le produit le plus vendu : elle représente 38 % des "
            "pièces fabriquées, devant le pain de campagne au levain (21 %) et les viennoiseries "
            "(19 %). La fouace aux pralines roses du dimanche a dépassé pour la première fois les "
            "5 000 unités vendues sur l'année.",
            "Le principal investissement de l'année est le nouveau four à sole électrique à quatre "
            "étages, mis en service le 14 février 2023 pour un coût de 86 000 euros, financé à 60 % "
            "par un prêt bancaire sur sept ans. Il remplace le four à fioul acheté d'occasion en 2014 "
            "et a réduit la consommation d'énergie de la cuisson de 22 %.",
            "Le Moulin de la Garenne a fourni 76 % du blé. Après la sécheresse de l'été, le meunier "
            "a dû compléter ses stocks avec du blé d'un moulin voisin pendant six semaines, en "
            "octobre et novembre ; la farine est restée certifiée biologique.",
            "Aucune rupture d'approvisionnement n'a obligé la boutique à retirer un pain de la "
            "vente, à l'exception du petit épeautre, indisponible du 2 au 16 mai.",
        ],
    ),
    (
        "3. L'équipe",
        [
            "Au 31 décembre 2023, la coopérative emploie 14 salariés, dont 11 associés, et accueille "
            "deux apprentis en CAP boulanger, Inès Galy et Théo Marty, formés au centre de formation "
            "des apprentis de la chambre des métiers. En juin, Théo Marty, alors en première année, "
            "a reçu une mention au concours départemental du meilleur apprenti boulanger.",
            "Deux associés ont rejoint le sociétariat au cours de l'année, après leur première "
            "année d'ancienneté : Amandine Rivals, vendeuse, et Karim Benali, livreur. Le capital "
            "social de la coopérative atteint ainsi 41 200 euros.",
            "Mathis Royer a été recruté comme pâtissier le 4 septembre 2023. Il a repris la "
            "fabrication des tartes de saison et a lancé une gamme de biscuits secs vendus au poids.",
            "Les salariés ont suivi au total 420 heures de formation, dont 14 heures de formation à "
            "l'hygiène alimentaire (méthode HACCP) pour les deux nouveaux arrivants et un stage de "
            "trois jours sur la conduite du nouveau four pour toute l'équipe de fabrication.",
            "Aucun accident du travail avec arrêt n'a été déclaré en 2023. L'écart entre le salaire "
            "le plus élevé et le plus bas, hors apprentis, est de 1 à 2,1, en deçà de la limite de "
            "1 à 2,5 fixée par les statuts. Les horaires de nuit ont été réduits : le premier "
            "boulanger commence désormais à 3 h 30 au lieu de 2 h 45, grâce à la fermentation longue.",
        ],
    ),
    (
        "4. Environnement et perspectives 2024",
        [
            "Les invendus représentent 3,1 % de la production, contre 4,5 % en 2021. Au total, "
            "9,4 tonnes de pain ont été données à l'épicerie solidaire La Petite Anse et 1,2 tonne "
            "de pain sec a été transformée en chapelure.",
            "Grâce au vélo-cargo, 96 % des livraisons de la commune ont été faites sans moteur "
            "thermique. La camionnette a parcouru 9 800 kilomètres, principalement pour les marchés.",
            "Pour 2024, l'assemblée est appelée à approuver trois projets. Le premier est "
            "l'installation de 36 kWc de panneaux solaires sur le toit du fournil, pour un coût "
            "estimé à 54 000 euros. Le deuxième est l'ouverture d'un dépôt de pain dans le quartier "
            "de la gare, prévue pour le mois d'octobre, avec l'embauche d'une vendeuse à mi-temps. "
            "Le troisième est le remplacement du pétrin principal, âgé de dix-neuf ans.",
            "Le budget d'investissement total proposé pour 2024 s'élève à 140 000 euros. Il serait "
            "financé par les réserves à hauteur de 60 000 euros, le reste par emprunt.",
            "Enfin, la gérance propose de porter la valeur de la part sociale de 50 à 60 euros "
            "pour les nouveaux associés à partir du 1er janvier 2025 ; les parts existantes ne "
            "seraient pas modifiées.",
            "Les comptes 2023 ont été établis par le cabinet comptable Serres et Vidal. La "
            "prochaine révision coopérative, un contrôle obligatoire tous les cinq ans pour une "
            "SCOP, aura lieu au printemps 2027 ; la précédente, en mars 2022, n'avait relevé "
            "aucune anomalie dans la tenue des registres ni dans le fonctionnement des assemblées.",
        ],
    ),
]

# The DOCX as (style, text) in reading order; "table" inserts the allergen table there.
CHARTER: list[tuple[str, str]] = [
    ("Title", "Charte hygiène et allergènes"),
    (
        "Normal",
        "Cette charte s'applique à toute personne qui travaille au Fournil des Coteaux, salariée, "
        "apprentie ou stagiaire. Elle a été adoptée le 12 janvier 2022 et révisée le 8 janvier 2024. "
        "Sa référente est Nadia Ferhat, responsable hygiène, à qui toute question doit être adressée.",
    ),
    ("Heading 1", "Hygiène du personnel"),
    (
        "Normal",
        "La tenue de travail (veste, pantalon, tablier et charlotte) est fournie et lavée par le "
        "fournil. Elle ne doit pas être portée hors de l'atelier. Les bijoux, montres et bagues sont "
        "retirés avant de commencer la fabrication, à l'exception de l'alliance lisse.",
    ),
    (
        "Normal",
        "Le lavage des mains est obligatoire en entrant dans l'atelier, après chaque pause, après "
        "avoir manipulé des œufs crus et après tout passage aux toilettes. Toute personne malade "
        "(fièvre, troubles digestifs, plaie infectée aux mains) le signale avant sa prise de poste.",
    ),
    ("Heading 1", "Températures et stockage"),
    (
        "Normal",
        "Les chambres froides positives sont maintenues entre 0 et 4 °C ; la chambre froide "
        "négative à -18 °C ou moins. Les températures sont relevées deux fois par jour, à 8 h et à "
        "16 h, et notées dans le registre de contrôle. Au-delà de 6 °C pendant plus de deux heures, "
        "les produits laitiers et les crèmes sont jetés et l'incident est consigné.",
    ),
    (
        "Normal",
        "Les farines sont stockées sur palettes, à 15 cm du sol au minimum, dans la réserve sèche. "
        "Le principe du premier entré, premier sorti s'applique à toutes les matières premières.",
    ),
    ("Heading 1", "Allergènes"),
    ("Heading 2", "Information des clients"),
    (
        "Normal",
        "La réglementation impose d'informer les clients de la présence des quatorze allergènes "
        "majeurs. Au fournil, la liste des allergènes de chaque produit est affichée en boutique, à "
        "côté de la caisse, et tenue à jour par la personne responsable de la vente le jour même. "
        "Un vendeur qui ne peut pas répondre avec certitude à une question sur les allergènes le "
        "dit au client et ne suppose jamais.",
    ),
    ("Heading 2", "Allergènes présents dans nos produits"),
    ("table", ""),
    (
        "Normal",
        "Le fournil ne fabrique aucun pain sans gluten : les farines circulent dans tout l'atelier "
        "et le risque de contamination ne peut pas être écarté. Aucun produit ne contient d'arachide "
        "ni de lupin.",
    ),
    ("Heading 1", "Nettoyage"),
    (
        "Normal",
        "Le pétrin, les plans de travail et les ustensiles sont nettoyés et désinfectés chaque jour "
        "en fin de fabrication. Le four, la chambre de pousse et les grilles sont nettoyés chaque "
        "lundi, jour de fermeture. Les chambres froides sont vidées et lavées le premier lundi de "
        "chaque mois. Chaque opération est cochée sur le plan de nettoyage affiché dans l'atelier.",
    ),
    ("Heading 1", "Traçabilité"),
    (
        "Normal",
        "Le numéro de lot de chaque sac de farine et de chaque livraison de beurre est noté dans le "
        "cahier de production du jour. Les étiquettes des matières premières sont conservées trois "
        "mois après la fin du lot. En cas d'alerte d'un fournisseur, la référente identifie les "
        "fabrications concernées et prévient la gérante dans l'heure.",
    ),
]

ALLERGEN_TABLE: list[tuple[str, str]] = [
    ("Produit", "Allergènes"),
    ("Pains au levain et baguette", "gluten"),
    ("Pain aux graines", "gluten, sésame"),
    ("Pain aux noix", "gluten, fruits à coque (noix)"),
    ("Croissant, pain au chocolat", "gluten, lait, œufs ; traces de soja (chocolat)"),
    ("Fouace aux pralines roses", "gluten, lait, œufs, fruits à coque (amandes)"),
    ("Galette des rois", "gluten, lait, œufs, fruits à coque (amandes)"),
]


def make_pdf(target: Path) -> None:
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    rl_config.invariant = 1  # no creation date or random id: identical bytes on every run
    font = "Helvetica"  # its built-in encoding covers French accents, but not "œ"
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            pdfmetrics.registerFont(TTFont("DejaVuSans", candidate))
            font = "DejaVuSans"
            break
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=10.5, leading=14)
    heading = ParagraphStyle("heading", parent=styles["Heading2"], fontName=font)
    title = ParagraphStyle("title", parent=styles["Title"], fontName=font)

    story = []
    for number, (page_title, paragraphs) in enumerate(REPORT_PAGES):
        if number:
            story.append(PageBreak())
        else:
            story += [Paragraph(REPORT_TITLE, title), Spacer(1, 0.4 * cm)]
        story.append(Paragraph(page_title, heading))
        story += [Paragraph(text, body) for text in paragraphs]
    doc = SimpleDocTemplate(
        str(target), pagesize=A4, title=REPORT_TITLE, author="Le Fournil des Coteaux", creator="make_sample.py"
    )
    doc.build(story)


def make_docx(target: Path) -> None:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author = "Charte hygiène et allergènes", "Le Fournil des Coteaux"
    props.created = props.modified = FIXED_DATE
    props.last_modified_by, props.revision = "make_sample.py", 1
    for style, text in CHARTER:
        if style == "table":
            table = document.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for product, allergens in ALLERGEN_TABLE:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = product, allergens
        else:
            document.add_paragraph(text, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    target.write_bytes(_with_fixed_zip_dates(buffer.getvalue()))


def _with_fixed_zip_dates(data: bytes) -> bytes:
    """The same archive with every member dated FIXED_DATE (python-docx stamps 'now')."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dest.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else SAMPLE_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    make_pdf(out_dir / PDF_NAME)
    make_docx(out_dir / DOCX_NAME)
    print(f"wrote {out_dir / PDF_NAME} and {out_dir / DOCX_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
