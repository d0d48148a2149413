"""Places of the demo region (Assen and Midden-Drenthe): centres, spread, postcodes and street names.

The streets are common Dutch street names; the people seeded at them are fictitious.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    radius_km: float
    postcode: str  # the four digits; letters are added per address
    weight: int
    streets: tuple[str, ...]


PLACES: tuple[Place, ...] = (
    Place("Assen", 52.9929, 6.5642, 2.6, "940", 150, (
        "Kerkstraat", "Oudestraat", "Torenlaan", "Vaart Zuidzijde", "Vaart Noordzijde", "Beilerstraat",
        "Rolderstraat", "Asserwijk", "Witterhoofdweg", "Europaweg", "Lariks", "Acaciastraat",
        "Eikenlaan", "Dr. Nassaulaan", "Singelpassage", "Kloekhorststraat", "Pelikaanstraat",
        "Havenstraat", "Groningerstraat", "Hertenkamp", "Marsdijk", "Baggelhuizerplas")),
    Place("Beilen", 52.8625, 6.5125, 1.3, "941", 45, (
        "Brink", "Mr. Harm Smeengestraat", "Bosweg", "Esweg", "Hoofdstraat", "Molenstraat",
        "Eursinge", "Zandtange", "Vredeveldseweg", "De Kaap")),
    Place("Smilde", 52.9550, 6.4480, 1.0, "942", 22, (
        "Hoofdweg", "Veenhoopsweg", "Kerkwijk", "Ericaweg", "Gasthuislaan")),
    Place("Bovensmilde", 52.9780, 6.4720, 0.8, "942", 20, (
        "Hoofdweg", "Havenstraat", "Molenweg", "Kerkstraat", "Burg. de Kockstraat")),
    Place("Westerbork", 52.8503, 6.6066, 0.9, "943", 22, (
        "Hoofdstraat", "Burg. Wiersumstraat", "Brinkstraat", "Beilerweg", "Tuinstraat")),
    Place("Hooghalen", 52.9203, 6.5400, 0.7, "941", 12, (
        "Hoofdweg", "Laaghalerstraat", "Grote Brink", "Oranjekanaal NZ")),
    Place("Wijster", 52.8150, 6.5200, 0.6, "941", 8, (
        "Hoofdweg", "Drijberseweg", "Oranjekanaal ZZ")),
    Place("Hijken", 52.8880, 6.4990, 0.5, "941", 7, (
        "Hoofdweg", "Oosterveldweg", "Beilerweg")),
    Place("Elp", 52.8870, 6.6330, 0.4, "944", 5, ("Hoofdstraat", "Oranjelaan")),
    Place("Orvelte", 52.8450, 6.6580, 0.4, "944", 4, ("Dorpsstraat", "Schoolstraat")),
)

GIVEN_NAMES = (
    "Johanna", "Hendrik", "Geertje", "Jan", "Albert", "Aaltje", "Roelof", "Hillie", "Klaas", "Jantje",
    "Willem", "Grietje", "Harm", "Trijntje", "Lammert", "Fenna", "Egbert", "Wiepkje", "Berend", "Janna",
    "Gerrit", "Hendrikje", "Lucas", "Annie", "Tjeerd", "Riek", "Jacob", "Zwaantje", "Arend", "Marchien",
    "Hindrik", "Alie", "Freerk", "Roelfien", "Wolter", "Tonnie", "Geert", "Dina", "Kornelis", "Lamberta",
)
FAMILY_NAMES = (
    "Bakker", "Hoving", "Mulder", "Jansen", "Wolters", "Koops", "Dekker", "de Boer", "Smit", "Bos",
    "Kuiper", "Oosting", "Hadders", "Lubbers", "Schuiling", "Meijer", "Kamps", "Kroeze", "Venema",
    "Tiesing", "Brouwer", "Post", "Nijdam", "Zwiers", "Pepping", "Bruins", "Withaar", "Drenth",
    "Hulshof", "Moes", "Hilbrants", "Jalving", "Snijders", "Kloosterman", "Boelens", "Eggens",
)
ACCESS_NOTES = (
    "Key safe to the left of the front door.",
    "Back door via the garden gate; key safe on the shed.",
    "Flat on the 2nd floor; lift at the end of the hall. Key safe next to the intercom.",
    "Dog (friendly) in the kitchen. Ring twice before entering.",
    "Hard of hearing: knock loudly, then let yourself in.",
    "Night light in the hall stays on. Bedroom at the back downstairs.",
    "",
)
