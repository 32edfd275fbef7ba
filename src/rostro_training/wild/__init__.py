"""The in-the-wild set (issue 12): ``build`` lays out faces and contact sheets from pinned
public photos (``sources.csv``), ``merge_labels`` merges the labelling passes (``GUIDE.md``)
into ``labels/wild.csv``."""
