// Password fields as Dovecot writes them, for 'correct horse battery staple', made on
// a machine with the real tools so CI needs none of them.
// What `doveadm pw -s SCHEME -p 'correct horse battery staple'` printed (plus Python's $2b$).
export const dovecotFixtures: Record<string, string> = {
  'SHA512-CRYPT': '{SHA512-CRYPT}$6$5qNi5XPQAzbO5Pff$CvCuuDsV7UgNPS3MOlv/V1ekfokXKpqhjIL0VRBvTKfRTZXlpI/uRYoTBP4x4NoAc9PMm0t7uAAtoKys6eJRA.',
  'SHA512-CRYPT rounds=7000': '{SHA512-CRYPT}$6$rounds=7000$dwkq0kO5TmQU0eMp$oYjfB9vHZemlNnIwJp4VubWJSs8.8XNRJ3/nw6476.bUTsXvGFDH244acqrOJN/rk1RwRO8M9tZLQ1GgEvuxF/',
  'BLF-CRYPT $2y$': '{BLF-CRYPT}$2y$05$wengNxDo0ipfVWKU9Tn01uk24E0Maj4EURTSwMq01V.ri8Dc9LHPe',
  'BLF-CRYPT $2b$': '{BLF-CRYPT}$2b$06$abcdefghijklmnopqrstuu10cNU3mXRamSUZYs8I8M/Szu..qXq5K',
  SSHA512: '{SSHA512}WsP6j9dHxLyR7X1Bicv0VC29reKy1FtQoXMHsQucXAA8Zx/NWTh4/onf5XncZQahU7Ola2bnbErX7rncl7T4pFnUS+k=',
  ARGON2ID: '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$gk8tliUyjW6RkX4o57b+fQ$ythCMID+xlkJaffvticN19AohbM2gGDn0VShJnhea+w',
};
