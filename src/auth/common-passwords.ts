// A compact list of the bases of the most used and most breached passwords (the words at the top
// of public breach corpora such as RockYou, keyboard walks, common first names, teams, seasons).
// Written for Atrium: the policy strips digits, symbols and l33t substitutions before looking a
// password up, so a base here refuses 'Password1!', 'P@ssw0rd2024' and the like as well.

export const COMMON_PASSWORD_BASES: ReadonlySet<string> = new Set(
  `
aaron abc abcd abcde abcdef abcdefg abcdefgh abigail access account accounting adam admin administrator
alexander alexis always amanda amazon amelia america andrea andrew android angel angela anna anthony anything
apple april arsenal asd asdf asdfgh asdfghjkl asdfjkl ashley audi august autumn aws azerty azure baby babyboy
babygirl bailey banana barbara barcelona baseball basketball batman bayern bear benjamin berlin betty bitcoin
black blessed blink blue bmw boxing brandon brenda brian brother buddy bunny business buster butterfly camaro
canada carl carol cash cat change changeme charles charlie charlotte cheese chelsea cherry chloe chocolate
christ cloud company computer contrasena control cookie corona corvette covid cowboy cricket crypto daddy
daniel david deborah december default demo dennis devil diamond dog dollar dolphin donald donna dorothy
douglas dragon dragonfly eagle earth edcrfv edward elizabeth ella emily emma enter entrance eric ethan euro
evelyn everything example facebook faith falcon fall family father february ferrari finance fire firefly
flower flowers football forever frank freedom friday friend friends gary george ginger god gold golf goodbye
google grace green gregory guest hacker hannah happy harley harold harper haslo heaven helen hell hello
hellokitty helloworld henry hero hi hockey honda hope horse hunter ice ihateyou iloveme iloveu iloveyou
instagram internet iphone ironman isabella jack jacob jaguar james january jason jeffrey jennifer jeremy
jerry jessica jesus john jonathan jordan joseph joshua july june justin juventus karen keith kevin key keys
killer kimberly kitten kitty kyle laptop larry laura legend lemon letmein life lightning linda linux lion
lisa live liverpool lkjhgf lockdown login logon london love lovely loveme lover lovers loveyou madison madrid
maggie manager manchester march margaret mario mark marketing mary master masterkey matrix matthew may
melissa mercedes mia michael michelle microsoft milan mnbvcx mommy monday money monkey moonlight motdepasse
mother mustang mylife mylove nancy naruto natalie nathan netflix never nicholas nicole ninja nissan nothing
november october office olivia open opensesame openup orange pamela pandemic panther paris parola pass passe
passphrase passw passwd password passwort patricia patrick paul payroll peace peanut pepper peter phoenix
pikachu pink pirate poiuyt pokemon porsche princess puppy purple pwd qazwsx qazwsxedc qwe qweasd qweasdzxc
qwert qwerty qwertyui qwertyuiop qwertz racing rainbow raymond rebecca red rich richard robert rockstar
rockyou ronald root rugby ruth ryan salasana sales samantha sample samsung samuel samurai sandra sarah scott
secret secrets senha september server sesame shadow shadows shark sharon shirley silver sister skate smile
soccer soldier something sophia sophie spiderman spring star starlight stars starwars stephanie stephen
steven storm summer sunday sunlight sunrise sunset sunshine superman superstar support surf susan system temp
temporary tennis test tester testing thomas thunder tiger tigger timothy tokyo toor toyota trustme trustno
trustnoone twitter tyler united usa user victoria wachtwoord walter warrior water welcome welcomeback
whatever white william wind windows winter wolf word wsxedc xsw xyz yamaha yellow youtube zachary zaq zaqwsx
zaqxsw zelda zombie zxc zxcv zxcvbn zxcvbnm
`
    .split(/\s+/)
    .filter(Boolean),
);
