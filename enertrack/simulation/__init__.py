"""Pure, seeded, vectorized generation of realistic node readings (no I/O).

`noise` hashes (seed, stream, index) into uniforms, so every value is a function of
time and can be generated in any chunking; `grid` gives voltage and frequency,
`characters` the kinds of installation, `fleet` one node's character from the seed,
`loadcurve` its power and power factor, `meter` the cumulative counter and the
arrays of readings. enertrack/simulation/publisher.py does the I/O (MQTT, store, nodes DB).
"""
