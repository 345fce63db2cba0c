-- Indexes for the dashboard's reads, chosen by timing each query on a
-- seeded site of 100,000 sessions and a million clicks
-- (internal/store/bench_test.go).
--
-- Figures over a range read an index that starts with (site_id, day) and
-- holds every column they group by: SQLite groups while it reads, never
-- touches the table and reads only the days asked for.

-- Totals and the daily series: sessions, visitors, bounces, time.
CREATE INDEX sessions_site_day_visitor
	ON sessions (site_id, day, visitor_id, page_count, started_at, last_at);
-- Breakdowns. Every index on sessions costs the processor a write each
-- time it saves a session, so columns with few values share one.
CREATE INDEX sessions_site_day_agent ON sessions (site_id, day, device, browser, os, country);
CREATE INDEX sessions_site_day_entry ON sessions (site_id, day, entry_page);
CREATE INDEX sessions_site_day_exit ON sessions (site_id, day, exit_page);
CREATE INDEX sessions_site_day_referrer ON sessions (site_id, day, referrer_host, utm_source);

-- The recordings list reads a range newest first and tests each session
-- against its filters inside the index, so that a filter few sessions pass
-- costs a read of the index, not of every row. It starts as the index it
-- replaces; the install check finds a site's latest sessions in it too.
DROP INDEX sessions_site_started;
CREATE INDEX sessions_site_started_list ON sessions (site_id, started_at, id, device, browser,
	os, country, referrer_host, entry_page, exit_page, utm_source, user_id, rage_count,
	error_count, last_at);

-- Page views by day and page, replacing the one by time that nothing reads
-- any more; a page's views newest first (the recordings list's page
-- filter, snapshots).
DROP INDEX page_views_site_at;
CREATE INDEX page_views_site_day ON page_views (site_id, day, device, page_key);
CREATE INDEX page_views_site_page ON page_views (site_id, page_key, at, device, session_id);

-- The recordings list's event filter reads the sessions from the index; it
-- replaces the one without session_id.
DROP INDEX custom_events_site;
CREATE INDEX custom_events_site_name ON custom_events (site_id, name, at, session_id);

-- The latest clicks on an element, for where it sits on the page.
CREATE INDEX clicks_site_page_selector ON clicks (site_id, page_key, selector, at);

-- The heatmap roll-ups get no index: their reads would need one holding
-- count, and as every click and move changes a count, such an index made
-- the processor a third slower.
