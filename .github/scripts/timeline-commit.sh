#!/usr/bin/env bash
# Commit the timeline points that are new under history/ on BRANCH and offer them to main as a pull request.
# Run by the nightly (and by tests/test_timeline.py on a scratch clone, with TIMELINE_NO_PUSH=1).
# Usage: timeline-commit.sh BRANCH
set -euo pipefail
branch="${1:?usage: timeline-commit.sh BRANCH (e.g. timeline/points)}"
new=$(git status --porcelain --untracked-files=all -- history | awk '{print $2}' | grep '\.json$' || true)
if [ -z "$new" ]; then
  echo "no new timeline points under history/"
  exit 0
fi
points=$(echo "$new" | sed -E 's#^history/([^/]+)/([^/]+)\.json$#\1 \2#' | paste -sd, - | sed 's/,/, /g')
count=$(echo "$new" | wc -l | tr -d ' ')
git switch -q -C "$branch"
git add -- history
git commit -q -m "timeline: $count new point(s): $points"
echo "committed on $branch: $points"
if [ -n "${TIMELINE_NO_PUSH:-}" ]; then
  exit 0
fi
git push -f origin "$branch"
# one open pull request per branch: opened the first night, updated by the push on later nights
if [ -z "$(gh pr list --head "$branch" --state open --json number --jq '.[].number')" ]; then
  gh pr create --head "$branch" --base main --title "Timeline: new points" \
    --body "New points of the ecosystem's timeline (nox -s timeline -- ROW --latest): $points."
fi
