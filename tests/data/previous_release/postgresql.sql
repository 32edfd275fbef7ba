--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id integer NOT NULL,
    resource_id integer NOT NULL,
    slot integer NOT NULL,
    key character varying(64) NOT NULL,
    key_hash bytea NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: api_keys_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.api_keys_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: api_keys_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.api_keys_id_seq OWNED BY public.api_keys.id;


--
-- Name: face_containers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.face_containers (
    id integer NOT NULL,
    resource_id integer NOT NULL,
    kind character varying(24) NOT NULL,
    container_id character varying(64) NOT NULL COLLATE pg_catalog."C",
    name character varying(128) NOT NULL,
    user_data text,
    recognition_model character varying(32) NOT NULL,
    created_at double precision NOT NULL,
    face_seq integer NOT NULL,
    removed_since_train integer NOT NULL
);


--
-- Name: face_containers_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.face_containers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: face_containers_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.face_containers_id_seq OWNED BY public.face_containers.id;


--
-- Name: face_ids; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.face_ids (
    face_id character varying(36) NOT NULL,
    resource_id integer NOT NULL,
    recognition_model character varying(32) NOT NULL,
    detection_model character varying(32) NOT NULL,
    embedding bytea NOT NULL,
    embedding_dim integer NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision NOT NULL
);


--
-- Name: operations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.operations (
    operation_id character varying(36) NOT NULL,
    resource_id integer NOT NULL,
    container_pk integer,
    run integer NOT NULL,
    status character varying(16) NOT NULL,
    created_at double precision NOT NULL,
    last_action_at double precision NOT NULL,
    finished_at double precision,
    message text
);


--
-- Name: persisted_faces; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.persisted_faces (
    id integer NOT NULL,
    persisted_face_id character varying(36) NOT NULL COLLATE pg_catalog."C",
    container_pk integer NOT NULL,
    person_pk integer,
    seq integer NOT NULL,
    user_data text,
    detection_model character varying(32) NOT NULL,
    "left" integer NOT NULL,
    top integer NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    embedding bytea NOT NULL,
    embedding_dim integer NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: persisted_faces_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.persisted_faces_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: persisted_faces_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.persisted_faces_id_seq OWNED BY public.persisted_faces.id;


--
-- Name: persons; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.persons (
    id integer NOT NULL,
    person_id character varying(36) NOT NULL COLLATE pg_catalog."C",
    container_pk integer NOT NULL,
    name character varying(128) NOT NULL,
    user_data text,
    created_at double precision NOT NULL
);


--
-- Name: persons_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.persons_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: persons_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.persons_id_seq OWNED BY public.persons.id;


--
-- Name: resource_descriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.resource_descriptions (
    resource_id integer NOT NULL,
    description character varying(500) NOT NULL
);


--
-- Name: resource_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.resource_settings (
    resource_id integer NOT NULL,
    sensitive_attributes boolean NOT NULL
);


--
-- Name: resources; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.resources (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    tier character varying(16) NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: resources_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.resources_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: resources_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.resources_id_seq OWNED BY public.resources.id;


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    description character varying(200) NOT NULL,
    applied_at double precision NOT NULL
);


--
-- Name: studio_admin; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.studio_admin (
    id integer NOT NULL,
    password_hash character varying(255) NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL
);


--
-- Name: studio_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.studio_sessions (
    token_hash bytea NOT NULL,
    csrf_token character varying(64) NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision NOT NULL
);


--
-- Name: studio_signin_failures; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.studio_signin_failures (
    id integer NOT NULL,
    scope character varying(80) NOT NULL,
    attempted_at double precision NOT NULL
);


--
-- Name: studio_signin_failures_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.studio_signin_failures_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: studio_signin_failures_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.studio_signin_failures_id_seq OWNED BY public.studio_signin_failures.id;


--
-- Name: trainings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trainings (
    container_pk integer NOT NULL,
    status character varying(16) NOT NULL,
    run integer NOT NULL,
    again boolean NOT NULL,
    owner character varying(128),
    requested_at double precision NOT NULL,
    last_action_at double precision NOT NULL,
    last_success_at double precision,
    message text,
    snapshot character varying(32),
    trained_seq integer,
    trained_items integer NOT NULL
);


--
-- Name: usage_counters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.usage_counters (
    resource_id integer NOT NULL,
    "window" character varying(8) NOT NULL,
    start bigint NOT NULL,
    calls integer NOT NULL
);


--
-- Name: usage_errors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.usage_errors (
    resource_id integer NOT NULL,
    minute bigint NOT NULL,
    kind character varying(12) NOT NULL,
    count integer NOT NULL
);


--
-- Name: api_keys id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys ALTER COLUMN id SET DEFAULT nextval('public.api_keys_id_seq'::regclass);


--
-- Name: face_containers id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.face_containers ALTER COLUMN id SET DEFAULT nextval('public.face_containers_id_seq'::regclass);


--
-- Name: persisted_faces id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persisted_faces ALTER COLUMN id SET DEFAULT nextval('public.persisted_faces_id_seq'::regclass);


--
-- Name: persons id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persons ALTER COLUMN id SET DEFAULT nextval('public.persons_id_seq'::regclass);


--
-- Name: resources id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resources ALTER COLUMN id SET DEFAULT nextval('public.resources_id_seq'::regclass);


--
-- Name: studio_signin_failures id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studio_signin_failures ALTER COLUMN id SET DEFAULT nextval('public.studio_signin_failures_id_seq'::regclass);


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.api_keys VALUES (1, 1, 1, '341db1ce22a0aca8ec315de5980cf3a0', '\xde111db3e787db67c4914801457d006e13c0c657f7a774765ff58af12efd0984', 1780000000);
INSERT INTO public.api_keys VALUES (2, 1, 2, '359181ef1069c7758a05a1691aefc4fd', '\x2ba3a57ec743b0aa9f05f388417bee8f48714562da120e3137e11c03924eaf54', 1780000000);


--
-- Data for Name: face_containers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.face_containers VALUES (1, 1, 'persongroup', 'family', 'Family', 'group data', 'recognition_04', 1780000000, 1, 0);
INSERT INTO public.face_containers VALUES (2, 1, 'facelist', 'list', 'List', NULL, 'recognition_04', 1780000000, 1, 0);


--
-- Data for Name: face_ids; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.face_ids VALUES ('00000000-0000-4000-8000-000000000001', 1, 'recognition_04', 'detection_03', '\xc5ad2b3e77fa56bedead0c3d170a3fbdf34d18bde11591bcfeea29be04149cbc868f91bd3dc38b3e42f1973c444dedbca14abdbca7c760bddd83b1bd827e03bd6f29223db088a0bc5521a13dcc7486bc6c9a023b2d08023edf69373dfffe29bdf61476bc54df353dc6c6223eb070b5bceee6a3bc40a0a83d982295bdf04fc4bcb979943dbc45433df357f63bec78613d80e66dbe43d2ab3d9072a1bd915c0cbe8808ba3cfcb66b3d07a715bd4d17b5bd20a50c3b0dfc8dbb2779ec3da47b7b3d7b6d823c7e04bb3d5d4e8abc34c59bbd2785443d3c02443d879190bc7ab283bd5b359a3c47c851be6c35683d1855253da5db09be9026a53b6e32a2bde9c87e3d601c2bbe01da99bd3ec16e3d958cc23d258735bec39327bd79bddc3c2efc4cbd54cd053e7968c8bdc994ee3c5d61b0bddd88ec3d401fe9ba4081fabcea8710bef1780d3e404a7d3de38d7d3df66ebf3dce02eb3ceb1657bd46a186bd809f86bd1b7fe63d95b0f5bd9ba948bd1c2ed8bc1d28973cfe96413dde24d2bda38611be661dbeb9802acc3de0ba7e3d1d1f913cce6dd5bcaa54c53c69c0a3bcf37b893dbea785bd38ac343c2b1915bc77d3363d792b973c3781563ef820fc3d62cefb3d4b8f2bbeda03e5bc06c84cbd273f333d3fb53fbe0598c53d7c81b33d610edbbdb9a0a4bd5dc986bd3616693b76ab573dcd432c3ecdde84bc441f813d082d513c', 128, 1780000000, 1780086400);


--
-- Data for Name: operations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.operations VALUES ('237c963a-a00d-4679-8a7c-0a669d9fd3c3', 1, 1, 1, 'succeeded', 1780000000, 1780000005, 1780000005, NULL);


--
-- Data for Name: persisted_faces; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.persisted_faces VALUES (1, '13a3fbaf-aa5f-486f-9367-0c97e6209145', 1, 1, 1, 'face data', 'detection_03', 10, 20, 30, 40, '\x772c093d4810a33d4c29033d045101bec7aeb33d432e313d642255bd33aa663df3b5103d6e80e93ced81343b2102593d512992bd205481bc755e3fbda2b36d3da9457c3bde2be8bcbc2e9bbd142dccbc6dd74e3aabcadabc026a003e0ccdc73dc78486beed733bbeddbe8abccb9427bd949aa93c3f86ac3cf128523ee1b2dcbd42e215bdf4b54a3e4c59803d8698833da7064cbd358b23becbf1843cc7152d3c9096f3bdf89887bda1c5e4bb5f80bbbdbb061cbcf499173c6a01623bbaf648bd97ad6b3ddfddb03ddfb5fe3c2664a2bd5935913dbb0947bddd7bae3dbab6d4bdb37db53dcdd7febaafd5f7bda931f9bcbdccab3b458fd83c6ceec2bdbec6dbbd7c719e3cab4439bdb6f5ba3c36bd963d4c9d23be32f3c93c200df33d4232ecbc61eba0bd8d4b953dd533c93c7dcdb13d060709bdab0b13bee3aa2ebcbcf630bd30e0993decb7993c9bd521be2133edbd0667af3d18e9863d33227ebd8125d5b8dedc303dcfec393d96e7ad3d799dcb3cd98f16bc977dcdbc8c87d13d065c5fbeba255cbcc894513b23710dbeca1a043de54181bd942aab3d0e6847bcefcd843d45e6f13d50ff173d1dcdadbd4b4516be71fe2d3ebcb330bc32a888bd9e0a653c72f497bc221fa93daf79573b28a5ae3aefd18dbd11633a3d1530cdbd1c28843da639173eaa4c17be58bb74be02dc743d08d67c3e63a6c6bd9838f8bdf5c7693d', 128, 1780000000);
INSERT INTO public.persisted_faces VALUES (2, 'b2cd0d5c-a3c7-43de-803c-481b1bd68d4c', 2, NULL, 1, NULL, 'detection_01', 1, 2, 3, 4, '\x3ada8d3cf11d44bd8ef71abd02fd64befdcb283e23a0d63daf2cf4bc1027913d3600d33c65c64fbde45fb73d1b05e9bcfab9f6bcc89794bd33af2a3dd2dc14bcc3924c3d7dcb63bd55533e3c0160a7bd19d89d3da1168d3c9209f83cb9011a3db699bdbd3ce9923d98e6403eeeab19be253422beda230dbeced79d3d9228413c3847ca3df283873d95ff9d3c551fd53cb9c07ebc71e8a23d3cead3bd46441ebdca48b63c21f5283e6e668fbdb369cabd605353bd8bd1b53deb54b0bca36cf83d7da02fbef4b0d33d711fc23df60e05be6779663c0d0ee43dc6ef033cca86bb3d60be5e3e248acd3c1961d2bccca290bd9621733dcc9c93bc691e86bc8cf51dbcf3ce733dd506c8bd327d0fbec14664be87d9e03d3f7add3bd2a20d3eb80b57ba24378bbd684d333dcbdde5bb7543ebbde505a6bd5eb5253ea1f0043db4361c3d4e81cfbc1c6181bd5142a73d3e021dbc3a658ebd064849bc39e0a9bddc988e3cc9d2d33dc0d59cbd26fc053eba777abd3338663c39e49cbdefbfa6bc9d468e3b1f1423bd78d983bdb8517ebd07099abd824213be6450c5bc2480163d7c66aa3d34c5723d097a663ece1def3c56332bbd018b2f3e9870c4bd63abb53d212bb3bdafd9043d519e38be23b0a83dd5796dbc2885b5bdc96b1d3e32918f3de77b893b08d58bbd212582bb5a0076bc96f4873d79b4953dd4847abdca1a4ebdc19c47bd', 128, 1780000000);


--
-- Data for Name: persons; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.persons VALUES (1, 'b583dd8c-d410-4763-a75e-dd2d6b8897db', 1, 'Ada', 'person data', 1780000000);


--
-- Data for Name: resource_descriptions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.resource_descriptions VALUES (1, 'made by the previous release');


--
-- Data for Name: resource_settings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.resource_settings VALUES (1, false);


--
-- Data for Name: resources; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.resources VALUES (1, 'legacy', 'S0', 1780000000);


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES (1, 'resources, keys, usage counters, faceId cache', 1796461957.0321722);
INSERT INTO public.schema_migrations VALUES (2, 'Studio admin, sessions and resource descriptions; errors per minute', 1796461957.049002);
INSERT INTO public.schema_migrations VALUES (3, 'face containers (person groups, face lists), persons, persisted faces, training state and operations', 1796461957.0817533);
INSERT INTO public.schema_migrations VALUES (4, 'per-resource settings (sensitive attributes on or off)', 1796461957.0877259);
INSERT INTO public.schema_migrations VALUES (5, 'failed Studio sign-in attempts (one throttle for every process)', 1796461957.0924246);


--
-- Data for Name: studio_admin; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.studio_admin VALUES (1, 'scrypt$16384$8$1$cHJldmlvdXMtcmVsZWFzZQ==$HgA/fKWfrVfpgwBjQW5LKTYo5bMjsFDFkDSggG3rudA=', 1780000000, 1780000000);


--
-- Data for Name: studio_sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.studio_sessions VALUES ('\x7474747474747474747474747474747474747474747474747474747474747474', 'csrf', 1780000000, 1780003600);


--
-- Data for Name: studio_signin_failures; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.studio_signin_failures VALUES (1, 'ip:127.0.0.1', 1780000000);


--
-- Data for Name: trainings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.trainings VALUES (1, 'succeeded', 1, false, NULL, 1780000000, 1780000005, 1780000005, NULL, 'snapshot-1', 1, 1);


--
-- Data for Name: usage_counters; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.usage_counters VALUES (1, 'second', 1780000000, 7);
INSERT INTO public.usage_counters VALUES (1, 'minute', 1779999960, 7);
INSERT INTO public.usage_counters VALUES (1, 'month', 1777593600, 7);


--
-- Data for Name: usage_errors; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.usage_errors VALUES (1, 1779999960, 'client', 1);


--
-- Name: api_keys_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.api_keys_id_seq', 2, true);


--
-- Name: face_containers_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.face_containers_id_seq', 2, true);


--
-- Name: persisted_faces_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.persisted_faces_id_seq', 2, true);


--
-- Name: persons_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.persons_id_seq', 1, true);


--
-- Name: resources_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.resources_id_seq', 1, true);


--
-- Name: studio_signin_failures_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.studio_signin_failures_id_seq', 1, true);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_resource_id_slot_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_resource_id_slot_key UNIQUE (resource_id, slot);


--
-- Name: face_containers face_containers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.face_containers
    ADD CONSTRAINT face_containers_pkey PRIMARY KEY (id);


--
-- Name: face_containers face_containers_resource_id_kind_container_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.face_containers
    ADD CONSTRAINT face_containers_resource_id_kind_container_id_key UNIQUE (resource_id, kind, container_id);


--
-- Name: face_ids face_ids_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.face_ids
    ADD CONSTRAINT face_ids_pkey PRIMARY KEY (face_id);


--
-- Name: operations operations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.operations
    ADD CONSTRAINT operations_pkey PRIMARY KEY (operation_id);


--
-- Name: persisted_faces persisted_faces_persisted_face_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persisted_faces
    ADD CONSTRAINT persisted_faces_persisted_face_id_key UNIQUE (persisted_face_id);


--
-- Name: persisted_faces persisted_faces_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persisted_faces
    ADD CONSTRAINT persisted_faces_pkey PRIMARY KEY (id);


--
-- Name: persons persons_person_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persons
    ADD CONSTRAINT persons_person_id_key UNIQUE (person_id);


--
-- Name: persons persons_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persons
    ADD CONSTRAINT persons_pkey PRIMARY KEY (id);


--
-- Name: resource_descriptions resource_descriptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resource_descriptions
    ADD CONSTRAINT resource_descriptions_pkey PRIMARY KEY (resource_id);


--
-- Name: resource_settings resource_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resource_settings
    ADD CONSTRAINT resource_settings_pkey PRIMARY KEY (resource_id);


--
-- Name: resources resources_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resources
    ADD CONSTRAINT resources_name_key UNIQUE (name);


--
-- Name: resources resources_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resources
    ADD CONSTRAINT resources_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: studio_admin studio_admin_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studio_admin
    ADD CONSTRAINT studio_admin_pkey PRIMARY KEY (id);


--
-- Name: studio_sessions studio_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studio_sessions
    ADD CONSTRAINT studio_sessions_pkey PRIMARY KEY (token_hash);


--
-- Name: studio_signin_failures studio_signin_failures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studio_signin_failures
    ADD CONSTRAINT studio_signin_failures_pkey PRIMARY KEY (id);


--
-- Name: trainings trainings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trainings
    ADD CONSTRAINT trainings_pkey PRIMARY KEY (container_pk);


--
-- Name: usage_counters usage_counters_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage_counters
    ADD CONSTRAINT usage_counters_pkey PRIMARY KEY (resource_id, "window", start);


--
-- Name: usage_errors usage_errors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage_errors
    ADD CONSTRAINT usage_errors_pkey PRIMARY KEY (resource_id, minute, kind);


--
-- Name: ix_face_ids_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_face_ids_expires_at ON public.face_ids USING btree (expires_at);


--
-- Name: ix_face_ids_resource_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_face_ids_resource_id ON public.face_ids USING btree (resource_id);


--
-- Name: ix_operations_container_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_operations_container_pk ON public.operations USING btree (container_pk);


--
-- Name: ix_operations_resource_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_operations_resource_id ON public.operations USING btree (resource_id);


--
-- Name: ix_persisted_faces_container_face; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_persisted_faces_container_face ON public.persisted_faces USING btree (container_pk, persisted_face_id);


--
-- Name: ix_persisted_faces_container_seq; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_persisted_faces_container_seq ON public.persisted_faces USING btree (container_pk, seq);


--
-- Name: ix_persisted_faces_person_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_persisted_faces_person_pk ON public.persisted_faces USING btree (person_pk);


--
-- Name: ix_persons_container_person; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_persons_container_person ON public.persons USING btree (container_pk, person_id);


--
-- Name: ix_studio_sessions_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_studio_sessions_expires_at ON public.studio_sessions USING btree (expires_at);


--
-- Name: ix_studio_signin_failures_scope_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_studio_signin_failures_scope_time ON public.studio_signin_failures USING btree (scope, attempted_at);


--
-- Name: api_keys api_keys_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- Name: face_containers face_containers_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.face_containers
    ADD CONSTRAINT face_containers_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- Name: face_ids face_ids_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.face_ids
    ADD CONSTRAINT face_ids_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- Name: operations operations_container_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.operations
    ADD CONSTRAINT operations_container_pk_fkey FOREIGN KEY (container_pk) REFERENCES public.face_containers(id) ON DELETE SET NULL;


--
-- Name: operations operations_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.operations
    ADD CONSTRAINT operations_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- Name: persisted_faces persisted_faces_container_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persisted_faces
    ADD CONSTRAINT persisted_faces_container_pk_fkey FOREIGN KEY (container_pk) REFERENCES public.face_containers(id) ON DELETE CASCADE;


--
-- Name: persisted_faces persisted_faces_person_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persisted_faces
    ADD CONSTRAINT persisted_faces_person_pk_fkey FOREIGN KEY (person_pk) REFERENCES public.persons(id) ON DELETE CASCADE;


--
-- Name: persons persons_container_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persons
    ADD CONSTRAINT persons_container_pk_fkey FOREIGN KEY (container_pk) REFERENCES public.face_containers(id) ON DELETE CASCADE;


--
-- Name: resource_descriptions resource_descriptions_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resource_descriptions
    ADD CONSTRAINT resource_descriptions_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- Name: resource_settings resource_settings_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resource_settings
    ADD CONSTRAINT resource_settings_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- Name: trainings trainings_container_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trainings
    ADD CONSTRAINT trainings_container_pk_fkey FOREIGN KEY (container_pk) REFERENCES public.face_containers(id) ON DELETE CASCADE;


--
-- Name: usage_counters usage_counters_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage_counters
    ADD CONSTRAINT usage_counters_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- Name: usage_errors usage_errors_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.usage_errors
    ADD CONSTRAINT usage_errors_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


