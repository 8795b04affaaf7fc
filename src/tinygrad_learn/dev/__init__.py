"""The author's kit: `tinygrad-learn dev check` validates a course as a whole, `dev new` scaffolds
a checkpoint. `check` and `new` are the cores (finished reports, no output); `view` renders them;
`commands` holds the command line of both.

Text that `dev new` writes for the author to replace carries PLACEHOLDER, which `dev check`
refuses wherever it is left: in the manifest, the lessons, the solutions and the suite.
"""

PLACEHOLDER = "TODO(dev new)"
