"""Audio capture: sources (microphone, file played as a microphone) feeding one ring buffer.

INTERFACE (owned by the capture work; the session relies on exactly this):

    spec = MicrophoneSpec(device=None | "name substring" | index)
    spec = FileSpec(path, speed=1.0)          # real time, or N times faster
    cap = Capture(spec, target_rate=16_000)   # raises NoInputDeviceError / BadAudioFileError / AudioInputError
    cap.start()
    while True:                                # the writer thread
        pcm = cap.read(timeout=0.1)            # float32 mono at target_rate; may be empty
        for problem in cap.problems():         # new CaptureProblem events since last call
            ...
        if cap.finished: break                 # file ended, or stopped and fully drained
    cap.stop()                                 # stop capture; read() still returns what is buffered
    cap.stats                                  # CaptureStats(overflows, frames_captured, peak, ...)
    cap.level()                                # (peak 0..1, rms dBFS) since the last call
    list_input_devices() -> list[InputDevice]
"""
