-- SCIM User attributes that ithbat stores as the identity provider sent
-- them without interpreting them (RFC 7643 4.1): ims, photos,
-- entitlements, roles, x509Certificates and the parts of name it does not
-- model (honorificPrefix, honorificSuffix, formatted), as one JSON object.
ALTER TABLE user_attributes ADD COLUMN other_attributes TEXT;
