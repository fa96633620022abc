"""`python -m bench` (`make bench`): every benchmark, one after the other."""

from bench import callback, funnel, notices, qr, search

BENCHMARKS = (callback.main, notices.main, qr.main, funnel.main, search.main)


def main() -> None:
    for benchmark in BENCHMARKS:
        benchmark()
        print()


if __name__ == "__main__":
    main()
