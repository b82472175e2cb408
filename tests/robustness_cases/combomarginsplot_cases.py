"""combomarginsplot (SSC): its text is its own (file names, then options); it needs files
saved by margins, saving(), so the sweep only checks that bad lines are refused cleanly."""
RAW = {"combomarginsplot"}
RAW |= {"grc1leg"}      # graph names, then options; needs graphs in memory
# mplotoffset (SSC) draws the last margins or a saved margins file: tests/test_mplotoffset.py
RAW |= {"mplotoffset"}
