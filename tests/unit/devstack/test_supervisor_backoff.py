"""The restart delay of the local stack's supervisor follows Docker's."""

from rasd.devstack.supervisor import Backoff


def test_delay_doubles_for_a_crash_loop_up_to_the_cap():
    backoff = Backoff(initial=0.1, maximum=1.0, reset_after=10)
    delays = [backoff.after_exit(ran_for=0.5) for _ in range(6)]
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_a_process_that_ran_long_enough_restarts_quickly_again():
    backoff = Backoff(initial=0.1, maximum=60, reset_after=10)
    for _ in range(5):
        backoff.after_exit(ran_for=1)
    assert backoff.after_exit(ran_for=10) == 0.1
    assert backoff.after_exit(ran_for=2) == 0.2
