"""File formats: web folders (OpenLIME), neural folders, .ptm, .rti, and loading any of them."""
