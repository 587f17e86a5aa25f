"""The labelled loss-curve corpus: generators (synthetic, torch), loader, and the committed data.

``index.json`` lists every run; ``runs/<name>.npz`` holds the arrays of all but the longest
synthetic runs, which are rebuilt from the recipe in their index entry (see ``load.py``).
"""
