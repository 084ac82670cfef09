"""Why frequency analysis exposes GAN images, shown from the project's own code.

``spectra`` (class spectra), ``upsampling`` (the cause: upsampling leaves a grid in the spectrum),
``saliency`` (what a trained model reads) and ``architecture`` (the network, layer by layer) compute;
``figures`` draws; ``document`` rewrites the generated sections of a markdown page; ``cli`` is
``deepfake-dct analyze``. Computation modules need numpy only; TensorFlow and matplotlib are
imported inside the functions that use them.
"""
