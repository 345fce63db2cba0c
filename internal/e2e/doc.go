// Package e2e proves Loupe end to end: a real Chromium visits real web pages
// that carry the tracker snippet, the tracker sends to a complete Loupe
// started in the test process (ingest, log, processor, stores and API on
// 127.0.0.1), and the tests judge the outcome only through what Loupe answers
// on its JSON API and what it leaves in its data folder.
//
// The tests show that
//
//   - a visit on a desktop and on a phone becomes one session with its page
//     views in the visited order, the right page keys, the deepest scroll and
//     the device class of the browser;
//   - every click is stored against the element that was hit, named by a
//     selector that finds that element again on the page, at the offset inside
//     it where the pointer landed;
//   - the route changes of a single-page app are page views of one session;
//   - a visit left as soon as its page loaded is still a session: what the
//     page sends while it goes away reaches Loupe, its recording's full
//     snapshot included;
//   - the recording plays back in the replayer and shows the pages visited,
//     while no character typed into a field ever reaches the recording, the SQL
//     store, the blobs, the log or the server's own log lines;
//   - the click heatmap of a page counts the elements clicked, and renders as a
//     PNG;
//   - the dashboard: first-start setup, sign-in (a wrong password refused),
//     form posts without their token refused, a viewer of one site finding
//     nothing of another on any page or API path, overview figures equal to
//     the API's, recordings filtered to exactly the sessions made for each
//     filter, a recording that plays in the player with its clicks on the
//     timeline, and a click heatmap whose hottest spot lies on the element
//     clicked most; it writes screenshots of its pages at 1440 and 390 px to
//     screenshots/ (or $LOUPE_SCREENSHOTS).
//
// The package holds tests only; it must not change Loupe, and it reaches no
// host but 127.0.0.1. The pages come from the shared corpus
// (../../../shared/corpus/pages). Without Chromium or the corpus the tests
// skip, or fail when the environment variable CI is "true".
package e2e
