"""`python -m bench` (`make bench`): every benchmark, one after the other."""

from bench import callback, casebook, checkin, console, funnel, notices, qr, review, search, signup
from bench import publication as publication_bench

BENCHMARKS = (
    callback.main,
    notices.main,
    qr.main,
    funnel.main,
    console.main,
    publication_bench.main,
    checkin.main,
    signup.main,
    review.main,
    casebook.main,
    search.main,
)


def main() -> None:
    for benchmark in BENCHMARKS:
        benchmark()
        print()


if __name__ == "__main__":
    main()
