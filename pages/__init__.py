"""Server-rendered public pages: the H5 landing page users reach inside WeChat."""
