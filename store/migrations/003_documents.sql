-- 003: documents of a case (minutes, mediation agreements, judicial confirmations), their
-- versions and signatures, the templates they start from, the centres' seal images and
-- the requests for judicial confirmation (issue 10).

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    session_id    INTEGER REFERENCES sessions (id),
    kind          TEXT NOT NULL CHECK (kind IN ('minutes', 'agreement', 'confirmation')),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('draft', 'signing', 'sealed', 'void')),
    shown_space   TEXT NOT NULL DEFAULT '',
    sealed_folder TEXT NOT NULL DEFAULT '',
    sealed_at     INTEGER,
    pdf_sha256    TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX documents_case ON documents (case_id);

CREATE TABLE document_versions (
    doc_id     INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (doc_id, version)
);

-- one row per signer per version; a signature of an older version is void (void_at)
CREATE TABLE document_signers (
    id            INTEGER PRIMARY KEY,
    doc_id        INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    invitation_id INTEGER REFERENCES invitations (id),
    username      TEXT REFERENCES staff (username),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    side          TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    attested_by   TEXT NOT NULL DEFAULT '',
    signed_at     INTEGER,
    sha256        TEXT NOT NULL DEFAULT '',
    addr          TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    evidence      TEXT NOT NULL DEFAULT '',
    image         BLOB,
    still         BLOB,
    otp_hash      TEXT NOT NULL DEFAULT '',
    otp_expires   INTEGER,
    otp_tries     INTEGER NOT NULL DEFAULT 0,
    void_at       INTEGER,
    void_reason   TEXT NOT NULL DEFAULT '',
    CHECK ((invitation_id IS NULL) <> (username IS NULL))
);
CREATE INDEX document_signers_doc ON document_signers (doc_id, version);

CREATE TABLE doc_templates (
    kind       TEXT NOT NULL,
    category   TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, category)
);

CREATE TABLE seal_images (
    centre      TEXT PRIMARY KEY REFERENCES centres (code),
    png         BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL
);

CREATE TABLE confirmations (
    id              INTEGER PRIMARY KEY,
    doc_id          INTEGER NOT NULL REFERENCES documents (id),
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    judge           TEXT NOT NULL REFERENCES staff (username),
    requested_by    TEXT NOT NULL,
    requested_at    INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'rejected')),
    reason          TEXT NOT NULL DEFAULT '',
    decided_at      INTEGER,
    session_id      INTEGER REFERENCES sessions (id),
    decision_doc_id INTEGER REFERENCES documents (id)
);
CREATE INDEX confirmations_judge ON confirmations (judge, state);
CREATE INDEX confirmations_doc ON confirmations (doc_id);

-- the default templates (Chinese), one per case category and kind; admins edit them
-- (PUT /api/document-templates/{kind}/{category}). {{...}} is filled from the case.
INSERT INTO doc_templates (kind, category, title, body, updated_by, updated_at) VALUES
('agreement', 'generic', '人民调解协议书', '编号：{{案号}}

当事人：
{{当事人}}

纠纷主要事实、争议事项：
{{案情}}

经{{调解组织}}主持调解，当事人自愿达成如下协议：
一、
二、

履行方式、地点、期限：
{{履行}}

本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式三份，当事人各执一份，人民调解委员会留存一份。
当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。

人民调解员：{{调解员}}
日期：{{日期}}', 'system', 0),
('agreement', 'marriage_family', '人民调解协议书（婚姻家庭纠纷）', '编号：{{案号}}

当事人：
{{当事人}}

纠纷主要事实、争议事项：
{{案情}}

经{{调解组织}}主持调解，当事人本着互谅互让、有利于家庭和睦及子女健康成长的原则，自愿达成如下协议：
一、子女抚养：
二、抚养费、赡养费的数额与支付方式：
三、共同财产的分割：
四、探望安排：

履行方式、地点、期限：
{{履行}}

本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式三份，当事人各执一份，人民调解委员会留存一份。
当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。

人民调解员：{{调解员}}
日期：{{日期}}', 'system', 0),
('agreement', 'land', '人民调解协议书（土地纠纷）', '编号：{{案号}}

当事人：
{{当事人}}

纠纷主要事实、争议事项：
{{案情}}

经{{调解组织}}主持调解，当事人自愿达成如下协议：
一、争议土地的位置、四至与面积：
二、承包经营权或使用权的归属：
三、补偿数额与支付方式：
四、界桩设立与地上附着物的处理：

履行方式、地点、期限：
{{履行}}

本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式三份，当事人各执一份，人民调解委员会留存一份。
当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。

人民调解员：{{调解员}}
日期：{{日期}}', 'system', 0),
('agreement', 'neighbours', '人民调解协议书（邻里纠纷）', '编号：{{案号}}

当事人：
{{当事人}}

纠纷主要事实、争议事项：
{{案情}}

经{{调解组织}}主持调解，当事人本着团结互助、公平合理的原则，自愿达成如下协议：
一、通行、采光、排水等相邻关系的处理：
二、损失的赔偿数额与支付方式：
三、今后相处的约定：

履行方式、地点、期限：
{{履行}}

本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式三份，当事人各执一份，人民调解委员会留存一份。
当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。

人民调解员：{{调解员}}
日期：{{日期}}', 'system', 0),
('agreement', 'labour_wages', '人民调解协议书（劳动报酬纠纷）', '编号：{{案号}}

当事人：
{{当事人}}

纠纷主要事实、争议事项：
{{案情}}

经{{调解组织}}主持调解，当事人自愿达成如下协议：
一、拖欠劳动报酬的数额与计算期间：
二、支付方式与账户：
三、工伤、社会保险等其他事项：

履行方式、地点、期限：
{{履行}}

本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式三份，当事人各执一份，人民调解委员会留存一份。
当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。

人民调解员：{{调解员}}
日期：{{日期}}', 'system', 0),
('agreement', 'contracts', '人民调解协议书（合同纠纷）', '编号：{{案号}}

当事人：
{{当事人}}

纠纷主要事实、争议事项：
{{案情}}

经{{调解组织}}主持调解，当事人自愿达成如下协议：
一、合同的继续履行、变更或解除：
二、价款、违约金或损失赔偿的数额：
三、支付方式与期限：

履行方式、地点、期限：
{{履行}}

本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式三份，当事人各执一份，人民调解委员会留存一份。
当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认。

人民调解员：{{调解员}}
日期：{{日期}}', 'system', 0),
('minutes', 'generic', '调解笔录', '案号：{{案号}}
调解组织：{{调解组织}}
调解员：{{调解员}}
时间：{{日期}}

当事人：
{{当事人}}

纠纷事由：
{{案情}}

调解员告知当事人的权利义务：

当事人陈述：

调解经过：

调解结果：
', 'system', 0);

-- a judge's hearing for a confirmation is an ordinary session of kind 'confirmation'.
-- SQLite cannot ALTER a CHECK constraint and rebuilding sessions would cascade-delete its
-- children, so the constraint's text is widened in place (the documented writable_schema
-- route; the new text accepts every row the old one did).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''reception'', ''consultation'')', '''reception'', ''consultation'', ''confirmation'')')
    WHERE type = 'table' AND name = 'sessions';
PRAGMA writable_schema = RESET;
