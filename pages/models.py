import streamlit as st

st.title("Models")
