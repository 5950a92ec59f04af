# Builds the PDF documents' embedded font (`make font`): LXGW WenKai
# subset to ASCII, common CJK punctuation and symbols, every hanzi of
# GB 2312 (6,763) and every character of the files named after the
# source font (catalogues, templates, the demo city). The font's licence
# (SIL OFL 1.1) reserves the names "LXGW" and "霞鹜" for unmodified
# fonts, so the subset is renamed "ChuangwenKai".
#
#   python3 subset.py SOURCE.ttf OUT.ttf FILE_GLOB...
import glob
import sys

from fontTools import subset
from fontTools.ttLib import TTFont

NAME = "ChuangwenKai"

chars = set(chr(c) for c in range(0x20, 0x7F))
chars |= set("·×÷±°℃№■□▲△▼▽●○◆◇★☆←↑→↓√…‰‘’“”《》「」『』【】〔〕〈〉、。，；：？！（）—–－～￥")
chars |= set(chr(c) for c in range(0x3000, 0x3040))  # CJK symbols and punctuation
chars |= set(chr(c) for c in range(0xFF01, 0xFF5F))  # full-width forms
chars |= set(chr(c) for c in range(0x2460, 0x2474))  # circled numbers
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
for pattern in sys.argv[3:]:
    for path in glob.glob(pattern, recursive=True):
        with open(path, encoding="utf-8") as f:
            chars |= set(c for c in f.read() if ord(c) >= 0x20)

font = TTFont(sys.argv[1])
options = subset.Options()
options.layout_features = []
options.hinting = False
options.name_IDs = ["*"]
options.name_languages = ["*"]
sub = subset.Subsetter(options)
sub.populate(text="".join(sorted(chars)))
sub.subset(font)

names = font["name"]
for rec in names.names:
    if rec.nameID in (1, 4, 16, 21):
        rec.string = NAME
    elif rec.nameID == 6:
        rec.string = NAME + "-Regular"
    elif rec.nameID == 3:
        rec.string = NAME + "-Regular;subset of LXGW WenKai 1.250"
font["head"].modified = font["head"].created  # the same input gives the same file
font.save(sys.argv[2])
print(f"{len(chars)} characters kept", file=sys.stderr)
