-- Which counters serve a service: asked for every waiting ticket's estimate
-- (open counters of its service).  The primary key (counter_id, service_id)
-- cannot answer it without reading the whole table.
CREATE INDEX counter_services_service ON counter_services (service_id, counter_id);
