My "Odd" DB
CREATE DATABASE "My ""Odd"" DB" WITH TEMPLATE = template0 ENCODING = 'UTF8';
ALTER DATABASE "My ""Odd"" DB" OWNER TO "o'wner";
COMMENT ON DATABASE "My ""Odd"" DB" IS E'it''s \' /* not a comment */';
ALTER DATABASE "My ""Odd"" DB" SET x TO $tag$ ; $$ ; $tag$;
/* nested /* comment */ ; */ SELECT 1;
