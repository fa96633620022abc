"""The casebook (案例汇编): the final list's cases gathered for the book, and its builds."""
