"""Text: French analysis (``analysis``), sentences, numbers, citation markers and layout
(tables of contents, reference lists, numbered headings).

Pure functions over strings; this package depends on nothing else of the project's, and
everything else may use it. It does not score, retrieve or decide.
"""
