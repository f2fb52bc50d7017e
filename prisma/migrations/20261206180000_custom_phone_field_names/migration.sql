-- The names of a company's custom phone fields, so a person found through one is shown with the
-- number it matched, labelled with its field.
ALTER TABLE "pipedrive_companies" ADD COLUMN "custom_phone_field_names" VARCHAR(100)[];
