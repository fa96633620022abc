"""Expert review and selection (专家点评 → 初选/入选): experts, assignment, scores, decisions."""
