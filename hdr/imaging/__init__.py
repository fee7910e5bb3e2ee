"""The picture pipeline: decoding, ink, finding digits and turning each into MNIST's 28x28 form.

NumPy, Pillow and OpenCV only: nothing here imports TensorFlow, so a page or a service can check and
prepare pictures before any model is loaded.
"""
