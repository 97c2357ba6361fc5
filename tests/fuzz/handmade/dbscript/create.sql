app
--
-- PostgreSQL database dump
--

\restrict abc

SET statement_timeout = 0;
SET standard_conforming_strings = on;
--
-- Name: app; Type: DATABASE; Schema: -; Owner: app
--

CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'de-DE';


ALTER DATABASE app OWNER TO app;

\unrestrict abc
\connect app
\restrict abc

ALTER DATABASE app SET search_path TO 'app', 'public';
ALTER ROLE app IN DATABASE app SET work_mem TO '8MB';
COMMENT ON DATABASE app IS 'the app; DATABASE app stays';
GRANT CONNECT ON DATABASE app TO reporting;
ALTER DATABASE app SET x.y TO $$a;b$$;
/* done */
