"""The Streamlit side of HDR: shared page pieces. The library (hdr/) never imports this."""
